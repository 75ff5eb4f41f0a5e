package dev.agentcoordinator.engine;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import static dev.agentcoordinator.engine.ExecutionProbe.sendReply;
import static dev.agentcoordinator.engine.TestCoordinator.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A compensation pass stops at the first undo that fails to start: the undos after it are not started by a delivery
 * that rolls back. Before, they were: each committed its attempt (its deadline running) while its request went with
 * the rollback, and the redelivery leaves a running undo's request to the retry sweep, which sends it only while it has
 * time left: one that had waited (for a connection, under a PostgreSQL restart) past its deadline was never sent.
 */
class CompensationHaltsAtAFailedUndoTest {
    private static ScriptedAgents agents;

    @BeforeAll
    static void agents() throws Exception {
        agents = new ScriptedAgents(shared().connectionFactory()).agent("f-comphalt-agent", r -> switch (r.action()) {
            case "last" -> List.of();   // answered by the test
            default -> List.of(ScriptedAgents.Reply.ok(Map.of("done", r.action())));
        });
    }

    @AfterAll
    static void stop() throws Exception {
        agents.close();
    }

    private static List<ScriptedAgents.Received> lastOf(String executionId) {
        return agents.received("comp_halt_last").stream().filter(r -> r.request().path("execution_id").asText().equals(executionId)).toList();
    }

    @Test
    void undosAfterAFailedOneAreNotStartedByTheDeliveryThatRollsBack() throws Exception {
        String eventId = sendEvent("F_COMPENSATION_HALT", "{}");
        await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(50))
                .until(() -> executionOf(eventId) != null && !lastOf(executionOf(eventId)).isEmpty());
        String executionId = executionOf(eventId);
        ScriptedAgents.Received last = lastOf(executionId).get(0);

        // both undos are ready together and neither can start: each delivery of the reply tries the first in the plan's
        // order (whichever it is), fails, and rolls back without trying the other; a pass that went on tried both
        try (RefusedTransition refusedA = RefusedTransition.ofStep(executionId, "comp_halt_a", "compensation", "running");
             RefusedTransition refusedB = RefusedTransition.ofStep(executionId, "comp_halt_b", "compensation", "running")) {
            sendReply(last.correlationId(), Json.write(Map.of("status", "error", "error", "refused", "retryable", false)));
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100))
                    .until(() -> refusedA.refusals() + refusedB.refusals() >= 3);
            assertThat(List.of(refusedA.refusals(), refusedB.refusals())).as("refused starts of the undos of comp_halt_a and comp_halt_b")
                    .containsOnlyOnce(0L);
        }

        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100))
                .until(() -> List.of("compensated", "compensation_failed").contains(executionStatus(executionId)));
        for (String step : List.of("comp_halt_a", "comp_halt_b")) {
            assertThat(query("SELECT attempt, status FROM workflow_step_executions WHERE execution_id = ? AND step_id = ?"
                    + " AND kind = 'compensation'", executionId, step)).as("undo of %s", step)
                    .extracting(row -> row.get("attempt") + ":" + row.get("status")).containsExactly("1:completed");
        }
        assertThat(executionStatus(executionId)).isEqualTo("compensated");
    }
}
