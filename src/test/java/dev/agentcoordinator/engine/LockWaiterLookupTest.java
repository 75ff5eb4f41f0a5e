package dev.agentcoordinator.engine;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.agentcoordinator.locks.LockSql;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.UUID;

import static dev.agentcoordinator.engine.TestCoordinator.shared;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * find-lock-waiters.sql, the query a step's first try (and the lock sweep's try) asks before taking its locks: it reads the
 * waiters of the resource asked about only, not those of every other resource (it read every waiter, 0.2 to 1 ms at 1,000),
 * and still names the one waiting longest. The waiters are written in a transaction that is rolled back: no coordinator
 * sees them.
 */
class LockWaiterLookupTest {
    private static final String PRIORITIES = "{\"g-lock-low\":1,\"g-lock-mid\":3}";
    private static final int RESOURCES = 30;
    private static final int WAITERS_EACH = 10;

    private Connection connection;
    private String prefix;

    @BeforeEach
    void waiters() throws SQLException {
        connection = shared().dataSource().getConnection();
        connection.setAutoCommit(false);
        prefix = "wl-" + UUID.randomUUID().toString().substring(0, 8) + "-";
        // 300 waiters (priority 1, in running executions, tried just now) spread over 30 resources, the longest waiting of
        // each written last, among 3,000 settled rows of 750 executions
        update("INSERT INTO workflow_executions (id, workflow_id, workflow_version, status, started_at)"
                + " SELECT ? || 'x' || g, 'lock-lookup', 1, CASE WHEN g <= 750 THEN 'completed' ELSE 'running' END, now()"
                + " FROM generate_series(1, 750 + " + RESOURCES * WAITERS_EACH + ") g", prefix);
        update("INSERT INTO workflow_step_executions (id, execution_id, step_id, agent, action, status, timeout_ms)"
                + " SELECT ? || 's' || g || '-' || k, ? || 'x' || g, 'step' || k, 'g-lock-low', 'act', 'completed', 1000"
                + " FROM generate_series(1, 750) g, generate_series(1, 4) k", prefix, prefix);
        update("INSERT INTO workflow_step_executions (id, execution_id, step_id, agent, action, status, timeout_ms, waiting_for,"
                + " waiting_since, waiting_locks)"
                + " SELECT ? || 'w' || g, ? || 'x' || (750 + g), 'wait' || g, 'g-lock-low', 'act', 'pending', 1000,"
                + "        'lock roadmap/' || ? || (g % " + RESOURCES + ") || ' held by strategist (priority 5, …)',"
                + "        now() - g * interval '1 second', jsonb_build_array(jsonb_build_array('roadmap', ? || (g % " + RESOURCES + ")))"
                + " FROM generate_series(1, " + RESOURCES * WAITERS_EACH + ") g", prefix, prefix, prefix, prefix);
    }

    @AfterEach
    void rollBack() throws SQLException {
        connection.rollback();
        connection.setAutoCommit(true);
        connection.close();
    }

    @Test
    void aTryReadsOnlyTheWaitersOfTheResourceItAsksAbout() throws Exception {
        // the lock sweep's try of a priority 3 waiter: nobody of 4 or more waits, so no row ends the read early
        JsonNode plan = new ObjectMapper().readTree(explain(prefix + "0", 4));
        assertThat(rowsReadFromSteps(plan.get(0).get("Plan"))).as("rows of workflow_step_executions read: %s", plan)
                .isLessThanOrEqualTo(WAITERS_EACH);
    }

    @Test
    void aTryNamesTheWaiterOfItsResourceWaitingLongest() throws Exception {
        assertThat(waiterAhead(prefix + "7", 1)).isEqualTo("wait" + (RESOURCES * (WAITERS_EACH - 1) + 7));
        assertThat(waiterAhead(prefix + "7", 2)).as("none of priority 2 or more").isNull();
        assertThat(waiterAhead(prefix + "nobody", 1)).isNull();
        // a waiter of two locks, the one asked about its second; and a note of a release before V53, without its locks
        update("UPDATE workflow_step_executions SET waiting_locks = jsonb_build_array(jsonb_build_array('doc', 'd'),"
                + " jsonb_build_array('roadmap', ? || 'two')) WHERE id = ? || 'w1'", prefix, prefix);
        assertThat(waiterAhead(prefix + "two", 1)).isEqualTo("wait1");
        update("UPDATE workflow_step_executions SET waiting_locks = NULL, waiting_for = 'lock roadmap/' || ? || 'old held by x'"
                + " WHERE id = ? || 'w2'", prefix, prefix);
        assertThat(waiterAhead(prefix + "old", 1)).isEqualTo("wait2");
    }

    /** The step a try of roadmap/{@code id} yields to, waiting with at least {@code yieldTo} priority; null when none waits. */
    private String waiterAhead(String id, long yieldTo) throws SQLException {
        try (PreparedStatement statement = connection.prepareStatement(LockSql.named("find-lock-waiters"))) {
            bind(statement, id, yieldTo);
            try (ResultSet rs = statement.executeQuery()) {
                return rs.next() ? rs.getString("step_id") : null;
            }
        }
    }

    private String explain(String id, long yieldTo) throws SQLException {
        try (PreparedStatement statement = connection.prepareStatement("EXPLAIN (ANALYZE, FORMAT JSON) "
                + LockSql.named("find-lock-waiters"))) {
            bind(statement, id, yieldTo);
            try (ResultSet rs = statement.executeQuery()) {
                rs.next();
                return rs.getString(1);
            }
        }
    }

    /** As LockedStepStart asks it, for a newcomer's row that is none of these. */
    private static void bind(PreparedStatement statement, String id, long yieldTo) throws SQLException {
        statement.setString(1, "roadmap");
        statement.setString(2, id);
        statement.setString(3, PRIORITIES);
        statement.setLong(4, yieldTo);
        statement.setLong(5, 10_000);
        statement.setString(6, "newcomer-row");
        statement.setString(7, "newcomer-execution");
        statement.setString(8, "newcomer-step");
    }

    /** The rows each scan of workflow_step_executions in the plan read: those it returned and those its filters removed. */
    private static long rowsReadFromSteps(JsonNode node) {
        long read = 0;
        if ("workflow_step_executions".equals(node.path("Relation Name").asText())) {
            read += node.path("Actual Rows").asLong() * Math.max(1, node.path("Actual Loops").asLong())
                    + node.path("Rows Removed by Filter").asLong() + node.path("Rows Removed by Index Recheck").asLong();
        }
        for (JsonNode child : node.path("Plans")) {
            read += rowsReadFromSteps(child);
        }
        return read;
    }

    private void update(String sql, Object... params) throws SQLException {
        try (PreparedStatement statement = connection.prepareStatement(sql)) {
            for (int i = 0; i < params.length; i++) {
                statement.setObject(i + 1, params[i]);
            }
            statement.executeUpdate();
        }
    }
}
