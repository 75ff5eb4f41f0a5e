package dev.agentcoordinator.engine;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Map;

import static dev.agentcoordinator.engine.TestCoordinator.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** Spec pattern 1: A → B → C, each receiving the previous step's output. */
class SequentialPipelineTest {
    private static ScriptedAgents agents;

    @BeforeAll
    static void agents() throws Exception {
        agents = new ScriptedAgents(shared().connectionFactory())
                .echo("seq-agent", r -> Map.of("result", Map.of("value", r.action() + "(" + r.input() + ")")));
    }

    @AfterAll
    static void stop() throws Exception {
        agents.close();
    }

    @Test
    void runsStepsInOrderPassingOutputsAlong() {
        String eventId = sendEvent("T_SEQUENTIAL", "{\"user\":{\"id\":\"u-1\"}}");
        await().atMost(Duration.ofSeconds(20)).until(() -> "completed".equals(executionStatus(executionOf(eventId))));
        String executionId = executionOf(eventId);

        assertThat(stepStatuses(executionId)).containsExactlyInAnyOrderEntriesOf(
                Map.of("a", "completed", "b", "completed", "c", "completed"));
        assertThat(agents.received()).filteredOn(r -> r.request().path("execution_id").asText().equals(executionId))
                .extracting(ScriptedAgents.Received::stepId).containsExactly("a", "b", "c");
        assertThat(stepRow(executionId, "a").get("input").toString()).isEqualTo("{\"user_id\": \"u-1\"}");
        assertThat(stepRow(executionId, "b").get("input").toString()).contains("\"from_a\": \"first({\\\"user_id\\\":\\\"u-1\\\"})\"");
        assertThat(query("SELECT count(*) AS n FROM step_attempts WHERE execution_id = ? AND status = 'completed'", executionId))
                .first().extracting(r -> ((Number) r.get("n")).intValue()).isEqualTo(3);
        assertThat(query("SELECT deliveries, workflow_id, execution_id FROM agent_events WHERE event_key = ?", eventId))
                .first().satisfies(r -> {
                    assertThat(r.get("workflow_id")).isEqualTo("t_sequential");
                    assertThat(r.get("execution_id")).isEqualTo(executionId);
                });
        // onSuccess published and stored as an event of its own
        await().atMost(Duration.ofSeconds(10)).until(() -> !query(
                "SELECT 1 FROM agent_events WHERE type = 'T_SEQUENTIAL_DONE' AND payload->>'execution_id' = ?", executionId).isEmpty());
    }
}
