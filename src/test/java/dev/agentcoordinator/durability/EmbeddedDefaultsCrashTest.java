package dev.agentcoordinator.durability;

import dev.agentcoordinator.StartsChildProcesses;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.agentcoordinator.CoordinatorApp;
import dev.agentcoordinator.infra.EmbeddedPostgresProcess;
import dev.agentcoordinator.infra.TestJvm;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * kill -9 of a coordinator on the embedded defaults (broker and PostgreSQL of its own, demo agents)
 * with executions in flight, then a start on the same data folder, as a user would do it. The
 * embedded PostgreSQL is a process of its own and outlives the killed JVM: the new start must stop
 * it and carry every execution to its end.
 */
@Tag("durability")
@StartsChildProcesses
class EmbeddedDefaultsCrashTest {
    private static final int EXECUTIONS = 60;
    private static final String HTTP_LINE = "  HTTP API:  ";
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path root;
    /** The coordinator's data folder; its logs go beside it, inside the test's own folder. */
    Path data;

    @org.junit.jupiter.api.BeforeEach
    void dataFolder() {
        data = root.resolve("data");
    }

    private final HttpClient http = HttpClient.newHttpClient();

    @Test
    void killNineThenAStartOnTheSameDataFolderCompletesEveryExecution() throws Exception {
        Process first = start("first");
        try {
            String api = httpUrl("first", first);
            for (int i = 0; i < EXECUTIONS; i++) {
                HttpResponse<String> accepted = http.send(HttpRequest.newBuilder(URI.create(api + "/api/events"))
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString("{\"type\": \"INTERVIEW_COMPLETED\", \"payload\": "
                                + "{\"interview_id\": \"i-" + i + "\", \"user_id\": \"u-" + i + "\"}}"))
                        .build(), HttpResponse.BodyHandlers.ofString());
                assertThat(accepted.statusCode()).isEqualTo(202);
            }
        } finally {
            first.destroyForcibly().waitFor();   // kill -9: no shutdown hook runs
        }
        Optional<ProcessHandle> leftover = EmbeddedPostgresProcess.of(data.resolve("postgres"));
        assertThat(leftover).as("the killed coordinator's PostgreSQL still runs").isPresent();

        Process second = start("second");
        try {
            String api = httpUrl("second", second);
            AtomicReference<Map<String, Integer>> statuses = new AtomicReference<>();
            await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(500)).untilAsserted(() -> {
                statuses.set(statuses(api));
                assertThat(statuses.get()).containsEntry("completed", EXECUTIONS);
            });
            assertThat(statuses.get()).hasSize(1);
            assertThat(leftover.get().isAlive()).as("the leftover server was stopped").isFalse();
        } finally {
            second.destroy();
            second.waitFor();
            leftover.ifPresent(ProcessHandle::destroyForcibly);
        }
    }

    private Process start(String name) throws Exception {
        List<String> command = new ArrayList<>(List.of(TestJvm.java(), "-Xmx384m"));
        command.addAll(TestJvm.quickStartOptions());
        command.addAll(List.of(TestJvm.vertxCacheIn(data), "-cp", TestJvm.classpath(),
                "-Dcoordinator.data.dir=" + dev.agentcoordinator.DatabaseTemplate.seeded(data), "-Dcoordinator.http.port=0",
                "-Dcoordinator.broker.embedded.port=0", "-Dcoordinator.db.embedded.port=0",
                CoordinatorApp.class.getName()));
        return new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(root.resolve(name + ".log").toFile())
                .start();
    }

    /** The HTTP URL the coordinator prints once started. */
    private String httpUrl(String name, Process coordinator) {
        Path log = root.resolve(name + ".log");
        AtomicReference<String> url = new AtomicReference<>();
        await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(100)).until(() -> {
            assertThat(coordinator.isAlive()).as("coordinator %s runs (log %s)", name, log).isTrue();
            return Files.readAllLines(log).stream().filter(line -> line.startsWith(HTTP_LINE)).findFirst()
                    .map(line -> {
                        url.set(line.substring(HTTP_LINE.length(), line.indexOf("/api/")));
                        return true;
                    }).orElse(false);
        });
        return url.get();
    }

    private Map<String, Integer> statuses(String api) throws Exception {
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(
                URI.create(api + "/api/executions?workflow_id=interview_completed&limit=1000")).build(),
                HttpResponse.BodyHandlers.ofString());
        Map<String, Integer> counts = new HashMap<>();
        for (JsonNode execution : JSON.readTree(response.body()).path("executions")) {
            counts.merge(execution.path("status").asText(), 1, Integer::sum);
        }
        return counts;
    }
}
