package dev.agentcoordinator.engine;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.jdbc.core.JdbcTemplate;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import static dev.agentcoordinator.engine.ExecutionProbe.*;
import static dev.agentcoordinator.engine.ScriptedAgents.Reply;
import static dev.agentcoordinator.engine.TestCoordinator.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * An attempt that a sweep or an HTTP call started has no message whose redelivery would send its request
 * again: its request carries a lease (V27) that the send clears, and the retry sweep sends once more the
 * request of a running attempt whose lease ran out.
 */
class UnsentRequestTest {
    private static ScriptedAgents agents;

    @BeforeAll
    static void agents() throws Exception {
        // the first attempt of "quiet" is never answered: only a request sent again for a later attempt is
        agents = new ScriptedAgents(shared().connectionFactory()).agent("f-unsent-agent", r -> {
            int attempt = r.request().path("attempt").asInt();
            if ("quiet".equals(r.action()) && attempt == 1) {
                return List.of();
            }
            if ("unconfirmed".equals(r.action())) {
                // attempt 1 fails for a retry; attempt 2 is answered only when its request comes a second time
                long deliveries = requests(agents, r.request().path("execution_id").asText(), "unconfirmed").stream()
                        .filter(earlier -> earlier.request().path("attempt").asInt() == 2).count();
                return attempt == 1 ? List.of(Reply.error("busy", true)) : deliveries < 2 ? List.of() : List.of(Reply.ok(Map.of("ok", true)));
            }
            return List.of(Reply.ok(Map.of("ran", r.action())));
        });
    }

    @AfterAll
    static void stop() throws Exception {
        agents.close();
    }

    @Test
    void aRunningAttemptWhoseRequestNeverLeftIsSentAgainWhenItsLeaseRunsOut() {
        String eventId = sendEvent("F_UNSENT", "{}");
        await().atMost(Duration.ofSeconds(20)).until(() -> executionOf(eventId) != null
                && requests(agents, executionOf(eventId), "quiet").size() == 1);
        String executionId = executionOf(eventId);
        // started by a message (the event): its redelivery would re-send it, so it carries no lease
        assertThat(query("SELECT 1 FROM workflow_step_executions WHERE execution_id = ? AND request_due_at IS NOT NULL",
                executionId)).isEmpty();

        // what a stop between the retry sweep's commit of attempt 2 and its send leaves behind
        new JdbcTemplate(shared().dataSource()).update("UPDATE workflow_step_executions SET attempt = 2, "
                + "dispatched_by = NULL, request_due_at = now() - interval '1 second', updated_at = now() "
                + "WHERE execution_id = ? AND step_id = 'quiet'", executionId);

        awaitExecution(eventId, "completed");
        assertThat(requests(agents, executionId, "quiet"))
                .extracting(r -> r.request().path("attempt").asInt())
                .containsExactly(1, 2);
        assertThat(stepRow(executionId, "quiet")).containsEntry("status", "completed").containsEntry("attempt", 2);
        assertThat(requests(agents, executionId, "after")).hasSize(1);
    }

    /**
     * The retry sweep starts attempt 2 with a lease on its request; the statement that would clear it after the
     * send fails (PostgreSQL refuses it here): the request is sent again once the lease (a third of the 3 s
     * timeout) ran out, well before the attempt would time out.
     */
    @Test
    void aRetryWhoseRequestIsNotConfirmedSentIsSentAgainWhenItsLeaseRunsOut() {
        JdbcTemplate jdbc = new JdbcTemplate(shared().dataSource());
        jdbc.execute("""
                CREATE OR REPLACE FUNCTION test_refuse_lease_clearing() RETURNS trigger AS $$
                BEGIN
                    RAISE EXCEPTION 'lease clearing refused by the test';
                END;
                $$ LANGUAGE plpgsql""");
        jdbc.execute("CREATE TRIGGER test_refused_lease_clearing BEFORE UPDATE ON workflow_step_executions FOR EACH ROW "
                + "WHEN (NEW.step_id = 'unconfirmed' AND NEW.status = 'running' AND OLD.request_due_at IS NOT NULL "
                + "AND NEW.request_due_at IS NULL) EXECUTE FUNCTION test_refuse_lease_clearing()");
        try {
            String executionId = awaitExecution(sendEvent("F_UNSENT_RETRY", "{}"), "completed");
            assertThat(requests(agents, executionId, "unconfirmed"))
                    .extracting(r -> r.request().path("attempt").asInt())
                    .containsExactly(1, 2, 2);
            assertThat(requests(agents, executionId, "unconfirmed").get(1).correlationId())
                    .isEqualTo(requests(agents, executionId, "unconfirmed").get(2).correlationId());
            assertThat(stepRow(executionId, "unconfirmed")).containsEntry("status", "completed").containsEntry("attempt", 2);
        } finally {
            jdbc.execute("DROP TRIGGER test_refused_lease_clearing ON workflow_step_executions");
        }
    }

    @Test
    void aRequestThatLeftIsNotSentAgain() {
        String eventId = sendEvent("F_UNSENT", "{}");
        await().atMost(Duration.ofSeconds(20)).until(() -> executionOf(eventId) != null
                && requests(agents, executionOf(eventId), "quiet").size() == 1);
        String executionId = executionOf(eventId);

        // the attempt timed out: the retry sweep starts attempt 2, sends it and clears its lease
        new JdbcTemplate(shared().dataSource()).update("UPDATE workflow_step_executions SET deadline = now() "
                + "WHERE execution_id = ? AND step_id = 'quiet'", executionId);

        awaitExecution(eventId, "completed");
        assertThat(requests(agents, executionId, "quiet"))
                .extracting(r -> r.request().path("attempt").asInt())
                .containsExactly(1, 2);
        assertThat(query("SELECT step_id FROM workflow_step_executions WHERE execution_id = ? AND request_due_at IS NOT NULL",
                executionId)).isEmpty();
    }
}
