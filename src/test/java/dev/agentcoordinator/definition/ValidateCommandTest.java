package dev.agentcoordinator.definition;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

class ValidateCommandTest {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    private int run(String... args) {
        return ValidateCommand.run(args, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    @Test
    void shippedWorkflowsAreValid() {
        assertThat(run("routes/workflows")).isZero();
        assertThat(out.toString(StandardCharsets.UTF_8).trim()).isEqualTo(
                "OK: 6 workflow(s) valid in routes/workflows: interview_completed, job_matched, market_update, response_refinement,"
                        + " resume_uploaded,"
                        + " roadmap_revision");
    }

    @Test
    void theDefaultFolderIsRoutesWorkflows() {
        assertThat(run()).isZero();
        assertThat(out.toString(StandardCharsets.UTF_8)).startsWith("OK: 6 workflow(s) valid in routes/workflows: ");
    }

    /** Without a folder, the one the coordinator would load: coordinator.workflows.dir, here from --config. */
    @Test
    void theDefaultFolderIsTheCoordinatorsOwnAndAnEmptyOneIsNoPass(@TempDir Path dir) throws Exception {
        Path empty = Files.createDirectory(dir.resolve("flows"));
        Path config = Files.writeString(dir.resolve("c.properties"), "coordinator.workflows.dir=" + empty + "\n");
        assertThat(run("--config", config.toString())).isEqualTo(1);
        assertThat(err.toString(StandardCharsets.UTF_8).trim()).isEqualTo(empty + ": no workflow definition (.yaml, .yml or .json) there");
        assertThat(run("")).isEqualTo(2);
        assertThat(run("--config", dir.resolve("missing.properties").toString())).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("configuration file " + dir.resolve("missing.properties") + " does not exist");
    }

    /**
     * The settings are loaded and checked as a start does (exit status 2, the start's message): a misspelt
     * coordinator.workflows.dir would otherwise have the default folder checked, and pass, instead of the one meant.
     */
    @Test
    void aMisspeltOrInvalidSettingIsRefusedAsAStartRefusesIt(@TempDir Path dir) throws Exception {
        Path config = Files.writeString(dir.resolve("c.properties"), "coordinator.workflows.dirr=../vf\n");
        assertThat(run("--config", config.toString())).isEqualTo(2);
        assertThat(out.size()).isZero();
        assertThat(err.toString(StandardCharsets.UTF_8).trim()).isEqualTo("unknown setting coordinator.workflows.dirr (from " + config
                + "): did you mean coordinator.workflows.dir?");

        err.reset();
        System.setProperty("coordinator.workflows.dirr", "x");
        try {
            assertThat(run()).isEqualTo(2);
            assertThat(run("routes/workflows")).as("a folder named too").isEqualTo(2);
        } finally {
            System.clearProperty("coordinator.workflows.dirr");
        }
        assertThat(out.size()).isZero();
        assertThat(err.toString(StandardCharsets.UTF_8)).startsWith(
                "unknown setting coordinator.workflows.dirr (from system properties): did you mean coordinator.workflows.dir?\n");

        err.reset();
        Files.writeString(config, "coordinator.http.port=eighty\n");
        assertThat(run("--config", config.toString())).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8).trim()).isEqualTo("invalid setting coordinator.http.port (from " + config
                + "): 'eighty' is not an integer");
        err.reset();
        assertThat(run("--config")).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8)).startsWith("--config needs a file name\nusage: validate ");
    }

    @Test
    void aSecondConfigFileIsRefusedAsTheCoordinatorRefusesIt(@TempDir Path dir) throws Exception {
        Path first = Files.writeString(dir.resolve("base.properties"), "coordinator.workflows.dir=" + dir.resolve("nowhere") + "\n");
        Path second = Files.writeString(dir.resolve("more.properties"), "coordinator.retention.days=7\n");

        assertThat(run("--config", first.toString(), "--config", second.toString())).isEqualTo(2);

        assertThat(err.toString(StandardCharsets.UTF_8)).startsWith("--config given twice (" + first + ", " + second + "): ")
                .contains("\nusage: validate ");
        assertThat(out.size()).isZero();
    }

    @Test
    void everyErrorIsPrintedAndTheExitCodeIsOne() {
        assertThat(run(WorkflowCatalogTest.resource("broken").toString())).isEqualTo(1);
        String printed = err.toString(StandardCharsets.UTF_8);
        assertThat(printed).startsWith("7 problem(s) in workflow definitions:");
        assertThat(printed).contains("  - market_update.yaml: step \"compile_report\": config: unknown field \"timeout\" (line 13, column 7)",
                "  - cycle.yaml: step \"a\": depends_on: cycle a -> c -> b -> a",
                "  - interview_completed.yaml: step \"adjust_roadmap\": condition.step: \"check_impact\" is not a step of this workflow");
        assertThat(out.size()).isZero();
    }

    @Test
    void aSingleFileCanBeChecked(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("one.yaml"), "id: one\nname: One\ntrigger: ONE\nsteps: [{id: s, agent: x, action: y}]\n");
        assertThat(run(file.toString())).isZero();
        assertThat(out.toString(StandardCharsets.UTF_8).trim()).isEqualTo("OK: 1 workflow(s) valid in " + file + ": one");
    }

    /** A definition file that is a link to nothing is not read: said in a warning, not silently left out. */
    @Test
    void aLinkToNoFileIsWarnedOf(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("one.yaml"), "id: one\nname: One\ntrigger: ONE\nsteps: [{id: s, agent: x, action: y}]\n");
        Files.createSymbolicLink(dir.resolve("two.yaml"), dir.resolve("gone/two.yaml"));
        assertThat(run(dir.toString())).isZero();
        assertThat(out.toString(StandardCharsets.UTF_8)).contains("OK: 1 workflow(s) valid in " + dir + ": one")
                .contains("  warning: two.yaml is a link to " + dir.resolve("gone/two.yaml") + ", which does not exist: not read");
    }

    /** Definitions in a subfolder are not read: said in a warning, not silently left out. */
    @Test
    void aSubfolderOfDefinitionsIsWarnedOf(@TempDir Path dir) throws Exception {
        Files.createDirectories(dir.resolve("more"));
        Files.writeString(dir.resolve("more/two.yaml"), "id: two\nname: Two\ntrigger: TWO\nsteps: [{id: s, agent: x, action: y}]\n");
        assertThat(run(dir.toString())).isEqualTo(1);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("no workflow definition").contains("  warning: subfolder more holds 1"
                + " definition file(s), which are not read: only the files directly in " + dir + " are (move them up to load them)");

        Files.writeString(dir.resolve("one.yaml"), "id: one\nname: One\ntrigger: ONE\nsteps: [{id: s, agent: x, action: y}]\n");
        assertThat(run(dir.toString())).isZero();
        assertThat(out.toString(StandardCharsets.UTF_8)).contains("OK: 1 workflow(s) valid in " + dir + ": one")
                .contains("  warning: subfolder more holds 1 definition file(s)");

        // beside a wrong file too (the warning was left out whenever another problem was found)
        Files.writeString(dir.resolve("bad.yaml"), "id: bad\nname: Bad\ntrigger: BAD\nsteps: [{id: s, agent: x, action: y, config: {retry_count: two}}]\n");
        err.reset();
        assertThat(run(dir.toString())).isEqualTo(1);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("bad.yaml: step \"s\": config.retry_count")
                .contains("  warning: subfolder more holds 1 definition file(s)");
    }

    /** Agent names a letter or two apart are probably one agent misspelt: valid, with a warning naming the likelier typo. */
    @Test
    void lookAlikeAgentNamesAreWarnedOf(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("a.yaml"), """
                id: a
                name: A
                trigger: A
                steps:
                  - { id: watch, agent: sentinel, action: check }
                  - { id: guard, agent: sentinel, action: check, depends_on: [watch] }
                  - { id: worker1, agent: worker-1, action: run }
                  - { id: worker2, agent: worker-2, action: run }
                  - { id: worker3, agent: worker_a, action: run }
                  - { id: worker4, agent: worker_b, action: run }
                  - { id: plan, agent: planner, action: run }
                  - { id: scan, agent: scanner, action: run }
                """);
        Files.writeString(dir.resolve("b.yaml"), "id: b\nname: B\ntrigger: B\nsteps: [{id: scan, agent: sentinal, action: check}]\n");

        assertThat(run(dir.toString())).isZero();
        assertThat(out.toString(StandardCharsets.UTF_8).trim().lines()).containsExactly("OK: 2 workflow(s) valid in " + dir + ": a, b",
                "  warning: agent \"sentinal\" (b.yaml step \"scan\") is named almost as agent \"sentinel\" (2 step(s)): the same"
                        + " agent misspelt? Its requests go to agent.sentinal, which only an agent of that very name reads");
    }

    /** Beside the errors of another file (or of its own), a look-alike is still told: it may be the next thing to mend. */
    @Test
    void lookAlikeAgentNamesAreWarnedOfBesideErrors(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("a.yaml"), """
                id: a
                name: A
                trigger: A
                steps:
                  - { id: watch, agent: sentinel, action: check }
                  - { id: guard, agent: sentinel, action: check, depends_on: [wach] }
                """);
        Files.writeString(dir.resolve("b.yaml"), "id: b\nname: B\ntrigger: B\nsteps: [{id: scan, agent: sentinal, action: check}]\n");

        assertThat(run(dir.toString())).isEqualTo(1);
        assertThat(err.toString(StandardCharsets.UTF_8).trim().lines()).first().asString().startsWith("1 problem(s) in workflow definitions:");
        assertThat(err.toString(StandardCharsets.UTF_8).trim().lines()).last().isEqualTo(
                "  warning: agent \"sentinal\" (b.yaml step \"scan\") is named almost as agent \"sentinel\" (2 step(s)): the same"
                        + " agent misspelt? Its requests go to agent.sentinal, which only an agent of that very name reads");
    }

    @Test
    void tooManyArgumentsIsAUsageError() {
        assertThat(run("a", "b")).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8)).startsWith("unknown argument: b\nusage: validate ");
    }
}
