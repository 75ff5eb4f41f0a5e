package dev.agentcoordinator.engine;

import dev.agentcoordinator.DroppedAtClose;
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
 * The retry sweep starts a batch of attempts in one statement and sends their requests one by one. On a loaded
 * machine the last ones of a large batch left seconds after that statement (a chaos run at a load average of 60:
 * about 1 s per request, 37 retries of a step with a 1.5 s timeout in 2 minutes never sent, each of them timing out
 * and the step failing with no request of attempts 2 and 3 ever reaching its agent). An attempt's time now runs
 * from its request's first send, not from the statement that started it.
 */
class SlowRetryBatchTest {
    private static ScriptedAgents agents;

    @BeforeAll
    static void agents() throws Exception {
        agents = new ScriptedAgents(shared().connectionFactory()).agent("f-slow-batch-agent", r ->
                r.request().path("attempt").asInt() == 1 ? List.of(Reply.error("busy", true)) : List.of(Reply.ok(Map.of("ok", true))));
    }

    @AfterAll
    static void stop() throws Exception {
        agents.close();
    }

    @Test
    void aRetryWhoseBatchTookLongerThanItsTimeoutToSendItGetsItsWholeTimeFromTheSend() {
        JdbcTemplate jdbc = new JdbcTemplate(shared().dataSource());
        // the statement that starts attempt 2 commits 1.5 s after its start, past the deadline it gave (1 s timeout),
        // as a sweep whose batch is still sending the requests before it
        try (DroppedAtClose created = new DroppedAtClose(jdbc)) {
            created.create("""
                    CREATE FUNCTION test_slow_retry_batch() RETURNS trigger AS $$
                    BEGIN
                        PERFORM pg_sleep(1.5);
                        RETURN NULL;
                    END;
                    $$ LANGUAGE plpgsql""", "DROP FUNCTION IF EXISTS test_slow_retry_batch()");
            created.create("CREATE TRIGGER test_slow_retry_batch AFTER UPDATE ON workflow_step_executions FOR EACH ROW "
                    + "WHEN (NEW.step_id = 'late_sent' AND OLD.status = 'pending' AND NEW.status = 'running' AND NEW.attempt = 2) "
                    + "EXECUTE FUNCTION test_slow_retry_batch()", "DROP TRIGGER IF EXISTS test_slow_retry_batch ON workflow_step_executions");
            String eventId = sendEvent("F_SLOW_RETRY_BATCH", "{}");
            await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(50))
                    .until(() -> List.of("completed", "failed").contains(String.valueOf(executionStatus(executionOf(eventId)))));
            String executionId = executionOf(eventId);
            assertThat(attempts(executionId, "late_sent")).extracting(a -> a.get("status") + ": " + a.get("error"))
                    .containsExactly("failed: busy", "completed: null");
            assertThat(requests(agents, executionId, "late_sent"))
                    .extracting(r -> r.request().path("attempt").asInt())
                    .containsExactly(1, 2);
            assertThat(executionStatus(executionId)).isEqualTo("completed");
        }
    }
}
