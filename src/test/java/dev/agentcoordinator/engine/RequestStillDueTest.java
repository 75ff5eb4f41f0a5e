package dev.agentcoordinator.engine;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
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

    private static String statement() throws Exception {
        try (var in = RequestStillDueTest.class.getResourceAsStream("/sql/request-still-due.sql")) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8).replace(":#rowId", "?").replace(":#attempt", "?")
                    .replace(":#resent", "?");
        }
    }

    @Test
    void aRequestGoesOnlyWhileItsAttemptRunsUnsentAndInTime() throws Exception {
        String eventId = sendEvent("T_SAGA_UNHEARD", "{}");   // pay: its agent's queue has no consumer
        await().atMost(Duration.ofSeconds(20)).until(() -> executionOf(eventId) != null
                && "running".equals(stepStatuses(executionOf(eventId)).get("pay")));
        Map<String, Object> pay = query("SELECT id, attempt FROM workflow_step_executions WHERE execution_id = ? AND step_id = 'pay'"
                + " AND kind = 'step'", executionOf(eventId)).get(0);
        String stillDue = statement();
        // one transaction, rolled back: the coordinator's sweeps see none of the states made up here (nor time the row out)
        try (Connection connection = shared().dataSource().getConnection()) {
            connection.setAutoCommit(false);
            try {
                // this connection as the coordinator whose sweep sends it
                run(connection, "SET LOCAL application_name = 'sweeping-coordinator'");
                // a lease to send, this coordinator's: it goes
                assertThat(run(connection, "UPDATE workflow_step_executions SET request_due_at = now(), handled_by = 'sweeping-coordinator'"
                        + " WHERE id = ?", pay.get("id"))).isEqualTo(1);
                assertThat(sendsAgain(connection, stillDue, pay.get("id"), pay.get("attempt"))).isEqualTo(1);
                // its lease taken over by another coordinator's sweep (start-due-retries.sql), which sends it: not this one too
                run(connection, "UPDATE workflow_step_executions SET handled_by = 'other-coordinator' WHERE id = ?", pay.get("id"));
                assertThat(sendsAgain(connection, stillDue, pay.get("id"), pay.get("attempt"))).isZero();
                run(connection, "UPDATE workflow_step_executions SET handled_by = 'sweeping-coordinator' WHERE id = ?", pay.get("id"));
                // sent already (request-sent.sql cleared the lease): not again
                run(connection, "UPDATE workflow_step_executions SET request_due_at = NULL WHERE id = ?", pay.get("id"));
                assertThat(sendsAgain(connection, stillDue, pay.get("id"), pay.get("attempt"))).isZero();
                // past its deadline: not sent with no time left
                run(connection, "UPDATE workflow_step_executions SET request_due_at = now(), deadline = now() - interval '1 second'"
                        + " WHERE id = ?", pay.get("id"));
                assertThat(sendsAgain(connection, stillDue, pay.get("id"), pay.get("attempt"))).isZero();
                // its result recorded meanwhile: not sent
                run(connection, "UPDATE workflow_step_executions SET deadline = now() + interval '1 minute', status = 'completed'"
                        + " WHERE id = ?", pay.get("id"));
                assertThat(sendsAgain(connection, stillDue, pay.get("id"), pay.get("attempt"))).isZero();
                // another attempt's request: not this one's to send
                run(connection, "UPDATE workflow_step_executions SET status = 'running' WHERE id = ?", pay.get("id"));
                assertThat(sendsAgain(connection, stillDue, pay.get("id"), ((Number) pay.get("attempt")).intValue() - 1)).isZero();
                // an attempt's first send past the deadline its start gave it (a slow batch): it goes, its time from now
                run(connection, "UPDATE workflow_step_executions SET request_due_at = now(), deadline = now() - interval '1 second'"
                        + " WHERE id = ?", pay.get("id"));
                assertThat(rows(connection, stillDue, false, pay.get("id"), pay.get("attempt"), false)).isEqualTo(1);
                assertThat(firstValue(connection, "SELECT deadline > clock_timestamp() AS ahead FROM workflow_step_executions WHERE id = ?",
                        pay.get("id"))).isEqualTo(true);
            } finally {
                connection.rollback();
            }
        }
    }

    /** request-still-due.sql for a request sent again (a lease), which keeps its attempt's deadline: the rows it updated. */
    private static int sendsAgain(Connection connection, String stillDue, Object rowId, Object attempt) throws Exception {
        return rows(connection, stillDue, true, rowId, attempt, true);
    }

    /** The rows a statement with RETURNING gave. */
    private static int rows(Connection connection, String sql, Object... parameters) throws Exception {
        try (PreparedStatement statement = connection.prepareStatement(sql)) {
            for (int i = 0; i < parameters.length; i++) {
                statement.setObject(i + 1, parameters[i]);
            }
            int rows = 0;
            try (java.sql.ResultSet result = statement.executeQuery()) {
                while (result.next()) {
                    rows++;
                }
            }
            return rows;
        }
    }

    private static Object firstValue(Connection connection, String sql, Object parameter) throws Exception {
        try (PreparedStatement statement = connection.prepareStatement(sql)) {
            statement.setObject(1, parameter);
            try (java.sql.ResultSet result = statement.executeQuery()) {
                return result.next() ? result.getObject(1) : null;
            }
        }
    }

    private static int run(Connection connection, String sql, Object... parameters) throws Exception {
        try (PreparedStatement statement = connection.prepareStatement(sql)) {
            for (int i = 0; i < parameters.length; i++) {
                statement.setObject(i + 1, parameters[i]);
            }
            return statement.executeUpdate();
        }
    }
}
