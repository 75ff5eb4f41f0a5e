package dev.agentcoordinator;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** The command line refuses to start, before touching broker or database, when its input is wrong. */
class CoordinatorAppTest {

    @TempDir
    Path tmp;

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    /** docker-compose.yml falls back on "change-me" when .env sets no password: a start with it says so. */
    @Test
    void aStartWithTheComposeDefaultPasswordIsWarnedOf() {
        assertThat(CoordinatorApp.composeDefaultPasswordWarning(dev.agentcoordinator.config.CoordinatorSettings.fromMap(
                java.util.Map.of("http.host", "0.0.0.0", "http.password", "change-me"))))
                .hasValueSatisfying(warning -> assertThat(warning).contains("docker-compose.yml's default").contains("COORDINATOR_HTTP_PASSWORD"));
        assertThat(CoordinatorApp.composeDefaultPasswordWarning(dev.agentcoordinator.config.CoordinatorSettings.fromMap(
                java.util.Map.of("http.host", "0.0.0.0", "http.password", "a-password-of-our-own")))).isEmpty();
    }

    @Test
    void invalidWorkflowDefinitionsExitWithStatus2WithoutStarting() throws Exception {
        Path workflows = Files.createDirectories(tmp.resolve("workflows"));
        Files.writeString(workflows.resolve("broken.yaml"), """
                id: broken
                trigger: SOMETHING_HAPPENED
                steps:
                  - id: first
                    agent: interviewer
                    action: analyze
                  - id: second
                    agent: architect
                    action: plan
                    depends_on: [no_such_step]
                """);

        int status = run("--config", configFile(
                "coordinator.workflows.dir=" + workflows,
                "coordinator.data.dir=" + tmp.resolve("data")).toString());

        assertThat(status).isEqualTo(2);
        assertThat(stderr()).contains("broken").contains("no_such_step");
        assertThat(tmp.resolve("data")).doesNotExist();
    }

    @Test
    void aMissingWorkflowsFolderExitsWithStatus2NamingTheSetting() throws Exception {
        int status = run("--config", configFile("coordinator.workflows.dir=" + tmp.resolve("nowhere"),
                "coordinator.data.dir=" + tmp.resolve("data")).toString());

        assertThat(status).isEqualTo(2);
        assertThat(stderr()).contains(tmp.resolve("nowhere") + ": no such directory").contains("coordinator.workflows.dir");
    }

    @Test
    void anInvalidSettingExitsWithStatus2AndNamesTheSetting() throws Exception {
        int status = run("--config", configFile("coordinator.http.port=eighty").toString());

        assertThat(status).isEqualTo(2);
        assertThat(stderr()).contains("coordinator.http.port").contains("eighty");
    }

    /** The file replaces ./coordinator.properties: of two, the last alone was read and the first's settings dropped. */
    @Test
    void aSecondConfigFileIsRefusedNamingBoth() throws Exception {
        Path first = Files.writeString(tmp.resolve("base.properties"), "coordinator.http.port=eighty\n");
        Path second = Files.writeString(tmp.resolve("more.properties"), "coordinator.workflows.dir=" + tmp.resolve("nowhere") + "\n");

        assertThat(run("--config", first.toString(), "--config", second.toString())).isEqualTo(2);

        assertThat(stderr()).startsWith("--config given twice (" + first + ", " + second + "): the settings are read from one file,"
                + " instead of ./coordinator.properties; put them together in one, or give the others as COORDINATOR_* variables"
                + " or -D options\nUsage:");
    }

    @Test
    void anUnknownArgumentExitsWithStatus2AndPrintsUsage() {
        assertThat(run("--frobnicate")).isEqualTo(2);
        assertThat(stderr()).contains("unknown argument: --frobnicate").contains("Usage:");
    }

    private int run(String... args) {
        return CoordinatorApp.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    private String stderr() {
        return err.toString(StandardCharsets.UTF_8);
    }

    private Path configFile(String... lines) throws Exception {
        return Files.writeString(tmp.resolve("coordinator.properties"), String.join("\n", lines) + "\n");
    }
}
