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

    /** The id and attempt of a new execution's step pay, running with its request unheard (its agent's queue has no consumer). */
    private static Map<String, Object> runningPayStep() {
        String eventId = sendEvent("T_SAGA_UNHEARD", "{}");
        await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(50)).until(() -> executionOf(eventId) != null
                && "running".equals(stepStatuses(executionOf(eventId)).get("pay")));
        return query("SELECT id, attempt FROM workflow_step_executions WHERE execution_id = ? AND step_id = 'pay'"
                + " AND kind = 'step'", executionOf(eventId)).get(0);
    }

    private static String statement() throws Exception {
        try (var in = RequestStillDueTest.class.getResourceAsStream("/sql/request-still-due.sql")) {
            // its named parameters stay (:#name), bound by name (stillDue): the statement says where and how often
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @Test
    void aRequestGoesOnlyWhileItsAttemptRunsUnsentAndInTime() throws Exception {
        Map<String, Object> pay = runningPayStep();
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
                assertThat(firstSend(connection, stillDue, pay.get("id"), pay.get("attempt"))).isEqualTo(1);
                assertThat(firstValue(connection, "SELECT deadline > clock_timestamp() AS ahead FROM workflow_step_executions WHERE id = ?",
                        pay.get("id"))).isEqualTo(true);
            } finally {
                connection.rollback();
            }
        }
    }

    /**
     * The retry sweep's batch started the attempt in one statement, which took a while before this request's turn came
     * (SlowRetryBatchTest): its record in step_attempts starts when its request first leaves, as its deadline does, not
     * with that statement (its duration counted the batch before it).
     */
    @Test
    void anAttemptsRecordStartsWhenItsRequestFirstLeaves() throws Exception {
        Map<String, Object> pay = runningPayStep();
        String stillDue = statement();
        try (Connection connection = shared().dataSource().getConnection()) {
            connection.setAutoCommit(false);
            try {
                run(connection, "SET LOCAL application_name = 'sweeping-coordinator'");
                // the attempt as the sweep's statement started it, its record from then; the batch before it took a while
                run(connection, "UPDATE workflow_step_executions SET request_due_at = now(), handled_by = 'sweeping-coordinator'"
                        + " WHERE id = ?", pay.get("id"));
                run(connection, "UPDATE step_attempts SET started_at = now() - interval '2 seconds' WHERE step_execution_id = ?"
                        + " AND attempt = ?", pay.get("id"), pay.get("attempt"));
                java.sql.Timestamp sent;
                try (PreparedStatement clock = connection.prepareStatement("SELECT clock_timestamp()::timestamptz");
                     java.sql.ResultSet result = clock.executeQuery()) {
                    result.next();
                    sent = result.getTimestamp(1);
                }
                assertThat(firstSend(connection, stillDue, pay.get("id"), pay.get("attempt"))).isEqualTo(1);
                Map<String, Object> times = new java.util.HashMap<>();
                try (PreparedStatement statement = connection.prepareStatement("SELECT a.started_at, s.deadline,"
                        + " capped_deadline(s.execution_id, s.kind, a.started_at + s.timeout_ms * interval '1 millisecond') = s.deadline AS deadline_from_start"
                        + " FROM step_attempts a JOIN workflow_step_executions s ON s.id = a.step_execution_id AND s.attempt = a.attempt"
                        + " WHERE s.id = ?")) {
                    statement.setObject(1, pay.get("id"));
                    try (java.sql.ResultSet result = statement.executeQuery()) {
                        assertThat(result.next()).isTrue();
                        times.put("started_at", result.getTimestamp(1));
                        times.put("deadline_from_start", result.getBoolean(3));
                    }
                }
                assertThat((java.sql.Timestamp) times.get("started_at")).as("the attempt's start, sent at %s", sent)
                        .isAfterOrEqualTo(sent);
                assertThat(times.get("deadline_from_start")).as("its deadline, a timeout after its start (within its execution's)").isEqualTo(true);
            } finally {
                connection.rollback();
            }
        }
    }

    /** request-still-due.sql for a request sent again (a lease), which keeps its attempt's deadline: the rows it updated. */
    private static int sendsAgain(Connection connection, String stillDue, Object rowId, Object attempt) throws Exception {
        return stillDue(connection, stillDue, rowId, attempt, true);
    }

    /** request-still-due.sql for an attempt's first send: the rows it updated. */
    private static int firstSend(Connection connection, String stillDue, Object rowId, Object attempt) throws Exception {
        return stillDue(connection, stillDue, rowId, attempt, false);
    }

    /** request-still-due.sql, its named parameters bound by name as camel-sql binds them from headers: the rows it updated. */
    private static int stillDue(Connection connection, String stillDue, Object rowId, Object attempt, boolean resent) throws Exception {
        Map<String, Object> values = Map.of("rowId", rowId, "attempt", attempt, "resent", resent);
        java.util.regex.Matcher names = java.util.regex.Pattern.compile(":#([A-Za-z]+)").matcher(stillDue);
        java.util.List<Object> parameters = new java.util.ArrayList<>();
        while (names.find()) {
            parameters.add(values.get(names.group(1)));
        }
        return rows(connection, stillDue.replaceAll(":#[A-Za-z]+", "?"), parameters.toArray());
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
