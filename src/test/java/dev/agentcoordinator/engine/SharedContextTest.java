package dev.agentcoordinator.engine;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import static dev.agentcoordinator.engine.ScriptedAgents.Reply;
import static dev.agentcoordinator.engine.TestCoordinator.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** Spec: Shared Context Pattern. Parallel replies merge shared memory without losing a key; signals flow downstream. */
class SharedContextTest {
    private static ScriptedAgents agents;

    @BeforeAll
    static void agents() throws Exception {
        agents = new ScriptedAgents(shared().connectionFactory()).agent("shared-agent", r -> {
            if (!r.action().equals("write")) {
                return List.of(Reply.ok(Map.of("seen", r.input())));
            }
            int index = r.input().path("index").asInt();
            String reply = Json.write(Map.of("status", "ok", "output", Map.of("wrote", index),
                    "shared_memory", Map.of("writer_" + index, Map.of("index", index)),
                    "signals", List.of(Map.of("signal_type", "SKILL_GAP_CRITICAL", "data", Map.of("from", index)))));
            return List.of(new Reply(0, reply, null));
        });
    }

    @AfterAll
    static void stop() throws Exception {
        agents.close();
    }

    @Test
    void parallelWritersLoseNothingAndSignalsReachLaterSteps() {
        String eventId = sendEvent("T_SHARED", "{}");
        await().atMost(Duration.ofSeconds(20)).until(() -> "completed".equals(executionStatus(executionOf(eventId))));
        String executionId = executionOf(eventId);

        JsonNode memory = Json.parse(query("SELECT shared_memory::text AS m FROM workflow_executions WHERE id = ?", executionId).get(0).get("m").toString());
        assertThat(memory.size()).isEqualTo(8);
        assertThat(query("SELECT count(*) AS n FROM execution_signals WHERE execution_id = ?", executionId).get(0).get("n")).isEqualTo(8L);

        JsonNode readerInput = Json.parse(stepRow(executionId, "reader").get("input").toString());
        assertThat(readerInput.path("memory_of_3").path("index").asInt()).isEqualTo(3);
        assertThat(readerInput.path("gap").has("from")).isTrue();
    }
}
