package dev.agentcoordinator.engine;

import org.junit.jupiter.api.Test;
import org.springframework.jdbc.core.JdbcTemplate;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;

import static dev.agentcoordinator.engine.TestCoordinator.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The retry sweep's guard before each request of its batch leaves (request-still-due.sql): a batch sent one request at
 * a time on a loaded machine reached its last ones seconds after it read them, and sent requests whose step had
 * completed meanwhile (a chaos run with two coordinators: 9 in 90 s).
 */
class RequestStillDueTest {

    private static int stillDue(Map<String, Object> row) throws Exception {
        String statement;
        try (var in = RequestStillDueTest.class.getResourceAsStream("/sql/request-still-due.sql")) {
            statement = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        statement = statement.replace(":#rowId", "?").replace(":#attempt", "?");
        return new JdbcTemplate(shared().dataSource()).update(statement, row.get("id"), row.get("attempt"));
    }

    @Test
    void aRequestGoesOnlyWhileItsAttemptRunsUnsentAndInTime() throws Exception {
        String eventId = sendEvent("T_SAGA_UNHEARD", "{}");   // pay: its agent's queue has no consumer
        await().atMost(Duration.ofSeconds(20)).until(() -> executionOf(eventId) != null
                && "running".equals(stepStatuses(executionOf(eventId)).get("pay")));
        String executionId = executionOf(eventId);
        String rowOf = "SELECT id, attempt FROM workflow_step_executions WHERE execution_id = ? AND step_id = 'pay' AND kind = 'step'";
        Map<String, Object> pay = query(rowOf, executionId).get(0);
        JdbcTemplate jdbc = new JdbcTemplate(shared().dataSource());

        // a lease to send: it goes
        jdbc.update("UPDATE workflow_step_executions SET request_due_at = now() WHERE id = ?", pay.get("id"));
        assertThat(stillDue(pay)).isEqualTo(1);
        // sent already (request-sent.sql cleared the lease): not again
        jdbc.update("UPDATE workflow_step_executions SET request_due_at = NULL WHERE id = ?", pay.get("id"));
        assertThat(stillDue(pay)).isZero();
        // past its deadline: not sent with no time left
        jdbc.update("UPDATE workflow_step_executions SET request_due_at = now(), deadline = now() - interval '1 second' WHERE id = ?",
                pay.get("id"));
        assertThat(stillDue(pay)).isZero();
        // settled meanwhile (here by a cancel): not sent
        jdbc.update("UPDATE workflow_step_executions SET deadline = now() + interval '1 minute' WHERE id = ?", pay.get("id"));
        assertThat(ExecutionProbe.post("/api/executions/" + executionId + "/cancel", null).statusCode()).isEqualTo(200);
        jdbc.update("UPDATE workflow_step_executions SET request_due_at = now() WHERE id = ?", pay.get("id"));
        assertThat(stillDue(pay)).isZero();
    }
}
