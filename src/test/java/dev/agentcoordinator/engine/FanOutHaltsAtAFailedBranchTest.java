package dev.agentcoordinator.engine;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static dev.agentcoordinator.engine.ExecutionProbe.attempts;
import static dev.agentcoordinator.engine.ExecutionProbe.sendReply;
import static dev.agentcoordinator.engine.TestCoordinator.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A reply's fan-out stops at the first branch that fails: the branches after it are not started by a delivery that
 * rolls back. Before, they were (a chaos run: PostgreSQL restarted under a fan-out, the first branch's statement failed,
 * the next ones waited 11 s for a connection, then committed their attempts, whose requests went with the rollback;
 * the redelivery came after their 3 s deadlines, so they timed out with their requests never sent).
 */
class FanOutHaltsAtAFailedBranchTest {
    private static ScriptedAgents agents;

    @BeforeAll
    static void agents() throws Exception {
        agents = new ScriptedAgents(shared().connectionFactory())
                .agent("f-fanhalt-fetch", r -> List.of())   // answered by the test
                .echo("f-fanhalt-branch", r -> Map.of("done", r.action()));
    }

    @AfterAll
    static void stop() throws Exception {
        agents.close();
    }

    @Test
    void branchesAfterAFailedOneAreNotStartedByTheDeliveryThatRollsBack() throws Exception {
        String eventId = sendEvent("F_FAN_OUT_HALT", "{}");
        await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(50)).until(() -> !agents.received("fetch").stream()
                .filter(r -> r.request().path("execution_id").asText().equals(executionOf(eventId))).toList().isEmpty());
        String executionId = executionOf(eventId);
        ScriptedAgents.Received fetch = agents.received("fetch").stream()
                .filter(r -> r.request().path("execution_id").asText().equals(executionId)).findFirst().orElseThrow();

        try (Connection holder = shared().dataSource().getConnection()) {
            holder.setAutoCommit(false);
            // b's row is held: a start of b waits for it, as statements waited for a connection in the outage
            try (PreparedStatement lock = holder.prepareStatement(
                    "SELECT id FROM workflow_step_executions WHERE execution_id = ? AND step_id = 'b' AND kind = 'step' FOR UPDATE")) {
                lock.setString(1, executionId);
                lock.executeQuery().close();
            }
            int holderPid;
            try (ResultSet rs = holder.createStatement().executeQuery("SELECT pg_backend_pid()")) {
                rs.next();
                holderPid = rs.getInt(1);
            }
            try (RefusedTransition refused = RefusedTransition.ofStep(executionId, "a", "step", "running")) {
                sendReply(fetch.correlationId(), Json.write(Map.of("status", "ok", "output", Map.of("data", "x"))));
                // either the fan-out went on to b and has waited longer than b's timeout, or it stopped at a and the
                // reply was delivered again a few times
                await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100)).until(() -> refused.refusals() >= 3
                        || !query("SELECT 1 FROM pg_stat_activity WHERE ? = ANY (pg_blocking_pids(pid)) "
                        + "AND now() - query_start > interval '2500 milliseconds'", holderPid).isEmpty());
                holder.rollback();
            }
        }

        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100))
                .until(() -> List.of("completed", "failed", "compensated").contains(executionStatus(executionId)));
        for (String branch : List.of("a", "b", "c")) {
            assertThat(attempts(executionId, branch)).as("attempts of %s", branch)
                    .extracting(row -> row.get("attempt") + ":" + row.get("status")).containsExactly("1:completed");
        }
        assertThat(executionStatus(executionId)).isEqualTo("completed");
    }
}
