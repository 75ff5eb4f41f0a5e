package dev.agentcoordinator.engine;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import static dev.agentcoordinator.engine.ScriptedAgents.Reply;
import static dev.agentcoordinator.engine.ExecutionProbe.awaitExecution;
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
        if (errorAgents != null) {
            errorAgents.close();
        }
    }

    private static ScriptedAgents errorAgents;

    @BeforeAll
    static void errorAgents() throws Exception {
        errorAgents = new ScriptedAgents(shared().connectionFactory()).agent("shared-errors-agent", r -> switch (r.action()) {
            case "flaky" -> List.of(r.request().path("attempt").asInt() == 1
                    ? new Reply(0, Json.write(Map.of("status", "error", "error", "busy", "retryable", true,
                            "shared_memory", Map.of("flaky_attempt_1", "busy"),
                            "signals", List.of(Map.of("signal_type", "FLAKY_SEEN", "data", Map.of("attempt", 1))))), null)
                    : Reply.ok(Map.of("done", true)));
            case "doomed" -> List.of(new Reply(0, Json.write(Map.of("status", "error", "error", "no such user", "retryable", false,
                    "signals", List.of(Map.of("signal_type", "USER_MISSING", "data", Map.of("user", "u-0"))))), null));
            default -> List.of(Reply.ok(Map.of("seen", r.input())));
        });
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

    /** What an agent signals or shares in an error reply reaches the execution's context too, retried or failed. */
    @Test
    void errorRepliesSignalAndShareAsResultsDo() {
        String executionId = awaitExecution(sendEvent("T_SHARED_ERRORS", "{}"), "completed");

        assertThat(stepStatuses(executionId)).containsEntry("doomed", "failed").containsEntry("flaky", "completed");
        JsonNode readerInput = Json.parse(stepRow(executionId, "reader").get("input").toString());
        assertThat(readerInput.path("flaky_note").asText()).isEqualTo("busy");
        assertThat(readerInput.path("seen").path("attempt").asInt()).isEqualTo(1);
        assertThat(query("SELECT signal_type, step_id FROM execution_signals WHERE execution_id = ? ORDER BY signal_type", executionId))
                .containsExactly(Map.of("signal_type", "FLAKY_SEEN", "step_id", "flaky"), Map.of("signal_type", "USER_MISSING", "step_id", "doomed"));
    }
}
