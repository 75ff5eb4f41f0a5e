package dev.agentcoordinator.durability;

import dev.agentcoordinator.StartsChildProcesses;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A rolling deployment: a coordinator JVM on version 1 of a workflow and one on version 2 share a
 * broker and a database, and either takes any event and any reply. Every execution ends on the
 * version it started on: a coordinator that meets the other's version reads it back from
 * workflow_definitions and adds its routes.
 */
@Tag("durability")
@StartsChildProcesses
class RollingDeploymentTest {
    private static final String V1 = """
            id: d_rolling
            name: Rolling deployment, version 1
            trigger: D_ROLLING
            version: 1
            config: { timeout_ms: 60000 }
            steps:
              - { id: first, agent: d-rolling-first, action: first }
              - { id: second, agent: d-rolling-second, action: second, depends_on: [first] }
            """;
    private static final String V2 = """
            id: d_rolling
            name: Rolling deployment, version 2
            trigger: D_ROLLING
            version: 2
            config: { timeout_ms: 60000 }
            steps:
              - { id: first, agent: d-rolling-first, action: first }
              - { id: second, agent: d-rolling-second-v2, action: second, depends_on: [first] }
              - { id: third, agent: d-rolling-third, action: third, depends_on: [second] }
            """;
    private static final Map<Integer, List<String>> AGENTS_OF_VERSION = Map.of(
            1, List.of("d-rolling-first", "d-rolling-second"),
            2, List.of("d-rolling-first", "d-rolling-second-v2", "d-rolling-third"));

    @Test
    void everyExecutionEndsOnItsOwnVersionWhicheverCoordinatorTakesItsReplies() throws Exception {
        OwnedInfrastructure infra = OwnedInfrastructure.startNew();
        Path v1 = workflows(infra, "v1", V1);
        Path v2 = workflows(infra, "v2", V2);
        RecordingAgents agents = new RecordingAgents(infra.connectionFactory());
        for (String agent : List.of("d-rolling-first", "d-rolling-second", "d-rolling-second-v2", "d-rolling-third")) {
            agents.agent(agent, 4, RecordingAgents.okAfter(5));
        }
        try (agents; EventSender sender = new EventSender(infra.connectionFactory());
             CoordinatorProcess old = CoordinatorProcess.start(infra, "rolling-v1", Map.of("workflows.dir", v1.toString()))) {
            List<String> events = new ArrayList<>(sender.events("D_ROLLING", 20));   // version 1 only
            try (CoordinatorProcess next = CoordinatorProcess.start(infra, "rolling-v2", Map.of("workflows.dir", v2.toString()))) {
                events.addAll(sender.events("D_ROLLING", 60));   // either coordinator starts them
                await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(200)).until(() -> infra.count(
                        "SELECT count(*) FROM workflow_executions WHERE workflow_id = 'd_rolling' AND status = 'completed'") == events.size());

                List<Map<String, Object>> executions = infra.query(
                        "SELECT id, workflow_version FROM workflow_executions WHERE workflow_id = 'd_rolling'");
                Map<Integer, Long> byVersion = new java.util.TreeMap<>();
                for (Map<String, Object> execution : executions) {
                    int version = ((Number) execution.get("workflow_version")).intValue();
                    byVersion.merge(version, 1L, Long::sum);
                    List<String> asked = agents.requests().stream().filter(r -> r.executionId().equals(execution.get("id")))
                            .map(RecordingAgents.Request::agent).toList();
                    assertThat(asked).as("agents of execution %s (version %d)", execution.get("id"), version)
                            .isEqualTo(AGENTS_OF_VERSION.get(version));
                }
                System.out.printf("DURABILITY rolling deployment: %d executions completed by version %s%n", executions.size(), byVersion);
                assertThat(byVersion).containsOnlyKeys(1, 2);
                // the replies of either version reached either coordinator: each met the other's version
                assertThat(old.logText()).contains("workflow d_rolling version 2, met in an execution");
                assertThat(next.logText()).containsAnyOf("workflow d_rolling version 1, met in an execution",
                        "of workflow d_rolling version 1 keep their version");
            }
        }
    }

    private static Path workflows(OwnedInfrastructure infra, String name, String definition) throws java.io.IOException {
        Path dir = Files.createDirectories(infra.root().resolve("workflows-" + name));
        Files.writeString(dir.resolve("d_rolling.yaml"), definition);
        return dir;
    }
}
