package dev.agentcoordinator.engine;

import dev.agentcoordinator.locks.LockSql;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Timestamp;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

import static dev.agentcoordinator.engine.TestCoordinator.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The lease on the request of an attempt no message started (V27) runs from when its row is taken, not from the start of
 * the transaction that takes it: a locked start's transaction takes the locks first (waiting on their rows, retrying a
 * deadlock), and an undo's start may wait for its row. A lease counted from before ran out as the start committed, and
 * another coordinator's retry sweep sent the undo request again while this one sent it (a chaos run with two
 * coordinators: 3 duplicate undo requests).
 */
class RequestLeaseFromTakingTest {
    /** The compensation's and the step's timeout here: a lease of a third of it, 1 s, the floor. */
    private static final int TIMEOUT_MS = 3000;

    private static String named(String name) throws Exception {
        try (var in = RequestLeaseFromTakingTest.class.getResourceAsStream("/sql/" + name + ".sql")) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8).replaceAll(":#[A-Za-z]+", "?");
        }
    }

    @Test
    void aStartedUndoOrLockedStepHasItsWholeLeaseFromWhenItsRowIsTaken() throws Exception {
        String eventId = sendEvent("T_SAGA_UNHEARD", "{}");   // pay: its agent's queue has no consumer
        await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(50)).until(() -> executionOf(eventId) != null
                && "running".equals(stepStatuses(executionOf(eventId)).get("pay")));
        String executionId = executionOf(eventId);
        String payRow = (String) query("SELECT id FROM workflow_step_executions WHERE execution_id = ? AND step_id = 'pay'"
                + " AND kind = 'step'", executionId).get(0).get("id");
        // one transaction, rolled back: the coordinator's sweeps see none of the states made up here
        try (Connection connection = shared().dataSource().getConnection()) {
            connection.setAutoCommit(false);
            Map<String, Boolean> wholeLease = new LinkedHashMap<>();
            try {
                // the transaction starts here and takes a while before the row is taken, as a locked start's taking its locks
                run(connection, "SELECT pg_sleep(0.2)");

                // a step the lock sweep starts (mark-running-with-locks.sql, last of its locking transaction)
                run(connection, "UPDATE workflow_step_executions SET status = 'pending', timeout_ms = ? WHERE id = ?", TIMEOUT_MS, payRow);
                Timestamp taken = now(connection);
                assertThat(returnedRow(connection, LockSql.named("mark-running-with-locks"),
                        "{}", null, 1, "[[\"roadmap\", \"x\"]]", null, null, payRow)).isTrue();
                wholeLease.put("locked step", leaseFrom(connection, payRow, taken));

                // its execution compensating: the undo of pay, started by a sweep (no message)
                run(connection, "UPDATE workflow_step_executions SET status = 'completed', holds_locks = false WHERE id = ?", payRow);
                run(connection, "UPDATE workflow_executions SET status = 'compensating' WHERE id = ?", executionId);
                String undoRow = (String) first(connection, "SELECT id FROM workflow_step_executions WHERE execution_id = ?"
                        + " AND step_id = 'pay' AND kind = 'compensation'", executionId);
                run(connection, "UPDATE workflow_step_executions SET timeout_ms = ? WHERE id = ?", TIMEOUT_MS, undoRow);
                taken = now(connection);
                assertThat(returnedRow(connection, named("mark-compensation-running"), "{}", null, null, undoRow)).isTrue();
                wholeLease.put("undo", leaseFrom(connection, undoRow, taken));

                // the undo of a step that declares locks, waiting for them, then taking them
                run(connection, "UPDATE workflow_step_executions SET status = 'pending' WHERE id = ?", undoRow);
                taken = now(connection);
                assertThat(returnedRow(connection, LockSql.named("mark-compensation-running-with-locks"),
                        "{}", 1, "[[\"roadmap\", \"x\"]]", null, null, undoRow)).isTrue();
                wholeLease.put("locked undo", leaseFrom(connection, undoRow, taken));
            } finally {
                connection.rollback();
            }
            assertThat(wholeLease).as("a whole lease from the row's taking").containsExactly(
                    Map.entry("locked step", true), Map.entry("undo", true), Map.entry("locked undo", true));
        }
    }

    /** Whether the row's lease lasts a whole lease (1 s) from {@code taken}, when its statement began. */
    private static boolean leaseFrom(Connection connection, String rowId, Timestamp taken) throws Exception {
        Timestamp due = (Timestamp) first(connection, "SELECT request_due_at FROM workflow_step_executions WHERE id = ?", rowId);
        return due != null && !due.toInstant().isBefore(taken.toInstant().plusMillis(TIMEOUT_MS / 3));
    }

    private static Timestamp now(Connection connection) throws Exception {
        return (Timestamp) first(connection, "SELECT clock_timestamp()::timestamptz");
    }

    private static Object first(Connection connection, String sql, Object... parameters) throws Exception {
        try (PreparedStatement statement = prepare(connection, sql, parameters); ResultSet result = statement.executeQuery()) {
            return result.next() ? result.getObject(1) : null;
        }
    }

    private static boolean returnedRow(Connection connection, String sql, Object... parameters) throws Exception {
        try (PreparedStatement statement = prepare(connection, sql, parameters); ResultSet result = statement.executeQuery()) {
            return result.next();
        }
    }

    private static void run(Connection connection, String sql, Object... parameters) throws Exception {
        try (PreparedStatement statement = prepare(connection, sql, parameters)) {
            statement.execute();
        }
    }

    private static PreparedStatement prepare(Connection connection, String sql, Object... parameters) throws Exception {
        PreparedStatement statement = connection.prepareStatement(sql);
        for (int i = 0; i < parameters.length; i++) {
            statement.setObject(i + 1, parameters[i]);
        }
        return statement;
    }
}
