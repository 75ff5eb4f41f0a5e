package dev.agentcoordinator.engine;

import dev.agentcoordinator.CoordinatorApp;
import dev.agentcoordinator.RunningCoordinator;
import dev.agentcoordinator.config.CoordinatorSettings;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.jdbc.core.JdbcTemplate;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Replies another coordinator's consumers took ahead into their buffers are invisible to this one: it holds its
 * timeouts for the hold that coordinator shared (reply_backlog_holds), as for its own backlog. Before, two
 * coordinators started together after an outage timed out most attempts whose replies, sent in time, waited in the
 * first one's buffers.
 */
class SharedReplyHoldTest {
    @TempDir
    Path folder;

    @Test
    void anAttemptIsNotTimedOutWhileAnotherCoordinatorHoldsForItsBacklog() throws Exception {
        Path workflows = Files.createDirectories(folder.resolve("workflows"));
        Files.writeString(workflows.resolve("held.yaml"), """
                id: held
                name: A step nobody answers (shared hold test)
                trigger: HELD
                config: { timeout_ms: 600000, max_retries: 0 }
                steps:
                  - id: unanswered
                    agent: nobody-listens
                    action: wait
                    config: { timeout_ms: 1000 }
                """);
        CoordinatorSettings settings = CoordinatorSettings.fromMap(Map.of(
                "data.dir", dev.agentcoordinator.DatabaseTemplate.seeded(folder.resolve("data")).toString(),
                "broker.embedded.port", "0",
                "http.port", "0",
                "demo-agents.enabled", "false",
                "workflows.dir", workflows.toString()));
        try (RunningCoordinator coordinator = CoordinatorApp.start(settings)) {
            JdbcTemplate jdbc = new JdbcTemplate(coordinator.dataSource());
            // another coordinator on the database, whose consumers are a minute behind
            jdbc.update("INSERT INTO reply_backlog_holds (instance_id, hold_ms, updated_at) VALUES ('other-coordinator:1', 60000, now())");
            HttpResponse<String> posted = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(coordinator.httpUrl() + "/api/events"))
                    .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString("{\"type\": \"HELD\", \"payload\": {}}"))
                    .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(posted.statusCode()).isEqualTo(202);
            await().atMost(Duration.ofSeconds(10)).until(() -> "running".equals(step(jdbc).get("status")));

            await().during(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(6))
                    .until(() -> "running".equals(step(jdbc).get("status")));

            jdbc.update("DELETE FROM reply_backlog_holds WHERE instance_id = 'other-coordinator:1'");
            await().atMost(Duration.ofSeconds(15)).until(() -> "failed".equals(step(jdbc).get("status")));
            assertThat(step(jdbc).get("error")).isEqualTo("attempt 1 timed out after 1000 ms");
        }
    }

    private static Map<String, Object> step(JdbcTemplate jdbc) {
        List<Map<String, Object>> rows = jdbc.queryForList("SELECT s.status, s.error FROM workflow_step_executions s"
                + " JOIN workflow_executions e ON e.id = s.execution_id WHERE e.workflow_id = 'held'");
        return rows.isEmpty() ? Map.of() : rows.get(0);
    }
}
