package dev.agentcoordinator.engine;

import dev.agentcoordinator.DroppedAtClose;
import dev.agentcoordinator.locks.AcquireResult;
import dev.agentcoordinator.locks.LockHolder;
import dev.agentcoordinator.locks.LockRequest;
import dev.agentcoordinator.locks.ResourceLockStore;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.ResourceAccessMode;
import org.junit.jupiter.api.parallel.ResourceLock;
import org.springframework.jdbc.core.JdbcTemplate;

import java.time.Duration;
import java.util.UUID;

import static dev.agentcoordinator.engine.ExecutionProbe.awaitExecution;
import static dev.agentcoordinator.engine.ExecutionProbe.requests;
import static dev.agentcoordinator.engine.TestCoordinator.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A redelivered message sends again the undo requests it started (its earlier delivery's rollback took them away), from
 * the compensation rows it read before planning. An undo settled after that read, while the message handled the undos
 * planned before it, was sent all the same: a request after its compensation was recorded done (a chaos run with two
 * coordinators). It goes only while its compensation still runs that attempt.
 */
class UndoSentAgainOnlyWhileItRunsTest {
    /** The lock sweep's route: stopped here, so that only the redelivery tries the waiting undo (LockNewcomerTest's key). */
    private static final String LOCK_SWEEP = "coordinator.locks.waiting";
    /** The retry sweep's route: stopped here while the redelivery runs, so that it sends no undo the test has not settled yet. */
    private static final String RETRY_SWEEP = "coordinator.retries";
    /** Its step last fails once the test has set the stage. */
    private static final FailureOnCue FAILURE = new FailureOnCue();
    private static ScriptedAgents agents;

    @BeforeAll
    static void agents() throws Exception {
        agents = new ScriptedAgents(shared().connectionFactory()).agent("f-undo-resend-agent", FAILURE);
    }

    @AfterAll
    static void stop() throws Exception {
        agents.close();
    }

    @Test
    @ResourceLock(value = LOCK_SWEEP, mode = ResourceAccessMode.READ_WRITE)
    void anUndoSettledWhileARedeliveryPlannedItIsNotSentAgain() throws Exception {
        JdbcTemplate jdbc = new JdbcTemplate(shared().dataSource());
        ResourceLockStore locks = new ResourceLockStore(shared().dataSource());
        String key = "k-" + UUID.randomUUID().toString().substring(0, 8);
        String eventId = sendEvent("F_UNDO_RESEND", "{\"key\":\"" + key + "\"}");
        await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(50)).until(() -> executionOf(eventId) != null
                && "running".equals(stepStatuses(executionOf(eventId)).get("last")));
        String executionId = executionOf(eventId);
        String suffix = executionId.replace("-", "_");
        // the undo of a_locked waits for its lock, held elsewhere
        AcquireResult.Acquired held = (AcquireResult.Acquired) locks.acquire(
                new LockHolder("f-undo-resend-holder", 5, "holding-execution", "holding-step"), new LockRequest("undo_resend", key, 60_000));
        // the failure's first delivery starts b_resent's undo, then rolls back at c_refused's (refused once); its redelivery
        // reads b_resent's undo running, and while it tries a_locked's undo again, b_resent's is recorded done (as a reply
        // another consumer took would)
        try (DroppedAtClose created = new DroppedAtClose(jdbc)) {
            refuseCRefusedOnce(created, executionId, suffix);
            created.create("CREATE FUNCTION test_settle_b_" + suffix + "() RETURNS trigger AS $$ BEGIN"
                    + " IF EXISTS (SELECT 1 FROM test_refusals_" + suffix + " WHERE is_called) THEN"
                    + " UPDATE workflow_step_executions SET status = 'completed', completed_at = now(), updated_at = now()"
                    + " WHERE execution_id = NEW.execution_id AND kind = 'compensation' AND step_id = 'b_resent' AND status = 'running';"
                    + " END IF; RETURN NULL; END; $$ LANGUAGE plpgsql", "DROP FUNCTION IF EXISTS test_settle_b_" + suffix + "()");
            created.create("CREATE TRIGGER test_settle_b_" + suffix + " AFTER UPDATE ON workflow_step_executions FOR EACH ROW"
                    + " WHEN (NEW.execution_id = '" + executionId + "' AND NEW.kind = 'compensation' AND NEW.step_id = 'a_locked'"
                    + " AND NEW.waiting_for IS NOT NULL) EXECUTE FUNCTION test_settle_b_" + suffix + "()",
                    "DROP TRIGGER IF EXISTS test_settle_b_" + suffix + " ON workflow_step_executions");
            org.apache.camel.spi.RouteController routes = shared().camelContext().getRouteController();
            routes.stopRoute(LOCK_SWEEP);
            try {
                FAILURE.cue(executionId);
                await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50)).until(() -> !query(
                        "SELECT 1 FROM workflow_step_executions WHERE execution_id = ? AND kind = 'compensation' AND step_id = 'c_refused'"
                                + " AND status <> 'pending'", executionId).isEmpty());
                // c_refused's undo went with the redelivery that started it: b_resent's went (or not) before it
                await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(50))
                        .until(() -> !requests(agents, executionId, "c_refused").stream().filter(r -> r.action().equals("undo_c")).toList().isEmpty());
                assertThat(query("SELECT status FROM workflow_step_executions WHERE execution_id = ? AND kind = 'compensation'"
                        + " AND step_id = 'b_resent'", executionId)).singleElement().satisfies(r -> assertThat(r).containsEntry("status", "completed"));
                assertThat(requests(agents, executionId, "b_resent")).filteredOn(r -> r.action().equals("undo_b"))
                        .as("undo requests of b_resent, recorded done before the redelivery sent them").isEmpty();
            } finally {
                routes.startRoute(LOCK_SWEEP);
            }
        } finally {
            locks.release(held.lockId());
        }
    }

    /**
     * The redelivery found b_resent's undo still running when its turn came, and sent its request with the message's
     * commit, after the undos planned after it: b_resent's undo recorded done in between (when c_refused's starts, as a
     * reply another consumer took would) still reached its agent. The redelivery now leaves the request to the retry
     * sweep (its lease due at once), which holds the row while it sends, and sends only while the undo still runs.
     */
    @Test
    @ResourceLock(value = RETRY_SWEEP, mode = ResourceAccessMode.READ_WRITE)
    void anUndoSettledAfterARedeliveryCheckedItIsNotSentAgain() throws Exception {
        JdbcTemplate jdbc = new JdbcTemplate(shared().dataSource());
        String key = "k-" + UUID.randomUUID().toString().substring(0, 8);
        String eventId = sendEvent("F_UNDO_RESEND", "{\"key\":\"" + key + "\"}");
        await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(50)).until(() -> executionOf(eventId) != null
                && "running".equals(stepStatuses(executionOf(eventId)).get("last")));
        String executionId = executionOf(eventId);
        String suffix = executionId.replace("-", "_");
        // the failure's first delivery starts the undos of a_locked and b_resent, then rolls back at c_refused's (refused
        // once); its redelivery finds those two running, started by it, and c_refused's start records b_resent's done
        try (DroppedAtClose created = new DroppedAtClose(jdbc)) {
            refuseCRefusedOnce(created, executionId, suffix);
            created.create("CREATE FUNCTION test_settle_b_" + suffix + "() RETURNS trigger AS $$ BEGIN"
                    + " UPDATE workflow_step_executions SET status = 'completed', completed_at = now(), updated_at = now()"
                    + " WHERE execution_id = NEW.execution_id AND kind = 'compensation' AND step_id = 'b_resent' AND status = 'running';"
                    + " RETURN NULL; END; $$ LANGUAGE plpgsql", "DROP FUNCTION IF EXISTS test_settle_b_" + suffix + "()");
            created.create("CREATE TRIGGER test_settle_b_" + suffix + " AFTER UPDATE ON workflow_step_executions FOR EACH ROW"
                    + " WHEN (NEW.execution_id = '" + executionId + "' AND NEW.kind = 'compensation' AND NEW.step_id = 'c_refused'"
                    + " AND OLD.status = 'pending' AND NEW.status = 'running') EXECUTE FUNCTION test_settle_b_" + suffix + "()",
                    "DROP TRIGGER IF EXISTS test_settle_b_" + suffix + " ON workflow_step_executions");
            org.apache.camel.spi.RouteController routes = shared().camelContext().getRouteController();
            routes.stopRoute(RETRY_SWEEP);
            boolean sweepStopped = true;
            try {
                FAILURE.cue(executionId);
                // c_refused's undo went with the redelivery's commit, with whatever the redelivery sent itself
                await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50))
                        .until(() -> !requests(agents, executionId, "c_refused").stream().filter(r -> r.action().equals("undo_c")).toList().isEmpty());
                assertThat(query("SELECT status FROM workflow_step_executions WHERE execution_id = ? AND kind = 'compensation'"
                        + " AND step_id = 'b_resent'", executionId)).singleElement().satisfies(r -> assertThat(r).containsEntry("status", "completed"));
                routes.startRoute(RETRY_SWEEP);
                sweepStopped = false;
                // a_locked's undo, still running, goes again; b_resent's lease (if any) is cleared, its undo not sent
                await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50))
                        .until(() -> !requests(agents, executionId, "a_locked").stream().filter(r -> r.action().equals("undo_a")).toList().isEmpty()
                                && query("SELECT 1 FROM workflow_step_executions WHERE execution_id = ? AND kind = 'compensation'"
                                        + " AND request_due_at IS NOT NULL", executionId).isEmpty());
                assertThat(requests(agents, executionId, "b_resent")).filteredOn(r -> r.action().equals("undo_b"))
                        .as("undo requests of b_resent, recorded done after the redelivery checked it").isEmpty();
                awaitExecution(eventId, "compensated");
            } finally {
                if (sweepStopped) {
                    routes.startRoute(RETRY_SWEEP);
                }
            }
        }
    }

    /** The first start of the execution's c_refused undo is refused (its delivery rolls back), the later ones not. */
    private static void refuseCRefusedOnce(DroppedAtClose created, String executionId, String suffix) {
        created.create("CREATE SEQUENCE test_refusals_" + suffix, "DROP SEQUENCE IF EXISTS test_refusals_" + suffix);
        created.create("CREATE FUNCTION test_refuse_once_" + suffix + "() RETURNS trigger AS $$ BEGIN"
                + " IF nextval('test_refusals_" + suffix + "') = 1 THEN RAISE EXCEPTION 'refused once by the test'; END IF;"
                + " RETURN NEW; END; $$ LANGUAGE plpgsql", "DROP FUNCTION IF EXISTS test_refuse_once_" + suffix + "()");
        created.create("CREATE TRIGGER test_refuse_once_" + suffix + " BEFORE UPDATE ON workflow_step_executions FOR EACH ROW"
                + " WHEN (NEW.execution_id = '" + executionId + "' AND NEW.kind = 'compensation' AND NEW.step_id = 'c_refused'"
                + " AND OLD.status = 'pending' AND NEW.status = 'running') EXECUTE FUNCTION test_refuse_once_" + suffix + "()",
                "DROP TRIGGER IF EXISTS test_refuse_once_" + suffix + " ON workflow_step_executions");
    }
}
