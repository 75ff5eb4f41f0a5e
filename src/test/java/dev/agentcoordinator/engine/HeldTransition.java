package dev.agentcoordinator.engine;

import dev.agentcoordinator.DroppedAtClose;
import org.springframework.jdbc.core.JdbcTemplate;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A real wait, for as long as a test wants: PostgreSQL makes the update that moves one step's row of one kind to one
 * status wait for an advisory lock the test holds (a trigger takes it), as a statement waited for a connection during a
 * PostgreSQL restart. Unlike a {@code FOR UPDATE} hold, it reaches a row that does not exist yet when the test starts
 * (a root's, created with its execution; an undo's, created as its execution begins compensating).
 */
final class HeldTransition implements AutoCloseable {
    private final JdbcTemplate jdbc = new JdbcTemplate(TestCoordinator.shared().dataSource());
    private final String trigger = "test_held_" + UUID.randomUUID().toString().replace("-", "");
    private final long key = ThreadLocalRandom.current().nextLong();
    private final DroppedAtClose created = new DroppedAtClose(jdbc);
    private final Connection holder;
    private final int holderPid;
    private boolean held;

    private HeldTransition(String executionId, String stepId, String kind, String status) throws SQLException {
        if (!((executionId == null ? "" : executionId) + stepId + kind + status).matches("[A-Za-z0-9_-]+")) {
            throw new IllegalArgumentException("not an id: " + executionId + ", " + stepId + ", " + kind + ", " + status);
        }
        holder = TestCoordinator.shared().dataSource().getConnection();
        try {
            try (PreparedStatement lock = holder.prepareStatement("SELECT pg_advisory_lock(?)")) {
                lock.setLong(1, key);
                lock.executeQuery().close();
            }
            held = true;
            try (ResultSet rs = holder.createStatement().executeQuery("SELECT pg_backend_pid()")) {
                rs.next();
                holderPid = rs.getInt(1);
            }
            created.create("CREATE FUNCTION " + trigger + "() RETURNS trigger AS $$ BEGIN"
                    + " PERFORM pg_advisory_xact_lock(CAST(TG_ARGV[0] AS bigint)); RETURN NEW; END; $$ LANGUAGE plpgsql",
                    "DROP FUNCTION IF EXISTS " + trigger + "()");
            created.create("CREATE TRIGGER " + trigger + " BEFORE UPDATE ON workflow_step_executions FOR EACH ROW WHEN ("
                    + (executionId == null ? "" : "NEW.execution_id = '" + executionId + "' AND ")
                    + "NEW.step_id = '" + stepId + "' AND NEW.kind = '" + kind + "' AND NEW.status = '" + status
                    + "' AND OLD.status <> '" + status + "') EXECUTE FUNCTION " + trigger + "('" + key + "')",
                    "DROP TRIGGER IF EXISTS " + trigger + " ON workflow_step_executions");
        } catch (SQLException | RuntimeException e) {   // no caller's try-with-resources holds it yet
            try {
                close();
            } catch (SQLException | RuntimeException closing) {
                e.addSuppressed(closing);
            }
            throw e;
        }
    }

    /** The {@code kind} row ("step", "compensation") of step {@code stepId} of the execution waits to become {@code status}. */
    static HeldTransition ofStep(String executionId, String stepId, String kind, String status) throws SQLException {
        return new HeldTransition(executionId, stepId, kind, status);
    }

    /** As {@link #ofStep}, in whichever execution: for a step id no other test's workflow has. */
    static HeldTransition ofStepOfAnyExecution(String stepId, String kind, String status) throws SQLException {
        return new HeldTransition(null, stepId, kind, status);
    }

    /** Whether an update has waited for the hold longer than {@code wait}. */
    boolean heldLongerThan(Duration wait) {
        return !TestCoordinator.query("SELECT 1 FROM pg_stat_activity WHERE ? = ANY (pg_blocking_pids(pid))"
                + " AND now() - query_start > CAST(? AS double precision) * interval '1 millisecond'", holderPid, wait.toMillis()).isEmpty();
    }

    /** Lets the waiting update (and any later one) go through. */
    void release() throws SQLException {
        if (held) {
            try (PreparedStatement unlock = holder.prepareStatement("SELECT pg_advisory_unlock(?)")) {
                unlock.setLong(1, key);
                unlock.executeQuery().close();
            }
            held = false;
        }
    }

    @Override
    public void close() throws SQLException {
        // released first: a DROP TRIGGER waits for the update that waits for the lock
        try {
            release();
        } finally {
            try {
                holder.close();   // a session lock would outlive this in the pool's connection: released above
            } finally {
                created.close();
            }
        }
    }
}
