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
import java.util.List;
import java.util.UUID;

import static dev.agentcoordinator.engine.ExecutionProbe.requests;
import static dev.agentcoordinator.engine.TestCoordinator.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A redelivered message makes the lease of an undo it started due (request-due.sql), and the retry sweep
 * sends it. A locked undo of the same message that cannot start (its lock names no resource any more) runs the saga's
 * pass again within that message; that pass found the undo running, started by the message, and made its lease due
 * again: the sweep sent the undo a second time. The same when the locked undo comes first: the nested pass makes the
 * lease due, the sweep sends it, and the pass that ran the nested one came to the undo after.
 */
class UndoMadeDueOncePerMessageTest {
    /** The lock sweep's route: stopped here, so that only the redelivery tries the waiting undo. */
    private static final String LOCK_SWEEP = "coordinator.locks.waiting";
    /** Its step last fails once the test has set the stage. */
    private static final FailureOnCue FAILURE = new FailureOnCue();
    private static ScriptedAgents agents;

    @BeforeAll
    static void agents() throws Exception {
        agents = new ScriptedAgents(shared().connectionFactory()).agent("f-undo-due-agent", FAILURE).agent("f-undo-due-unanswering-agent", r -> List.of());   // b_resent's undo keeps running
    }

    @AfterAll
    static void stop() throws Exception {
        agents.close();
    }

    /**
     * One race: the workflow's trigger, its step whose locked undo fails in the redelivery, and the update of an undo's row
     * held until the sweep has sent b_resent's undo (the undos of b_resent and c_refused as in both workflows).
     */
    private record Race(String trigger, String locked, String heldWhen) {
    }

    private static long undoRequestsOfB(String executionId) {
        return requests(agents, executionId, "b_resent").stream().filter(r -> r.action().equals("undo_b")).count();
    }

    @Test
    @ResourceLock(value = LOCK_SWEEP, mode = ResourceAccessMode.READ_WRITE)
    void anUndoTheSweepSentForARedeliveryIsNotMadeDueAgainByAnotherPassOfThatMessage() throws Exception {
        // d_locked's failure (its nested pass) is held until the sweep has sent b_resent's undo
        race(new Race("F_UNDO_DUE_ONCE", "d_locked", "step_id = 'd_locked' AND NEW.status = 'failed'"));
    }

    @Test
    @ResourceLock(value = LOCK_SWEEP, mode = ResourceAccessMode.READ_WRITE)
    void anUndoANestedPassMadeDueIsNotMadeDueAgainByThePassThatRanIt() throws Exception {
        // the nested pass (a_locked's failure) makes b_resent's lease due, then starts c_refused's undo: held there until the
        // sweep has sent b_resent's, before the outer pass comes to b_resent
        race(new Race("F_UNDO_DUE_ONCE_LOCKED_FIRST", "a_locked",
                "step_id = 'c_refused' AND OLD.status = 'pending' AND NEW.status = 'running'"));
    }

    private void race(Race race) throws Exception {
        JdbcTemplate jdbc = new JdbcTemplate(shared().dataSource());
        ResourceLockStore locks = new ResourceLockStore(shared().dataSource());
        String key = "k-" + UUID.randomUUID().toString().substring(0, 8);
        String eventId = sendEvent(race.trigger(), "{\"key\":\"" + key + "\"}");
        await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(50)).until(() -> executionOf(eventId) != null
                && "running".equals(stepStatuses(executionOf(eventId)).get("last")));
        String executionId = executionOf(eventId);
        String suffix = executionId.replace("-", "_");
        // the locked undo waits for its lock, held elsewhere
        AcquireResult.Acquired held = (AcquireResult.Acquired) locks.acquire(
                new LockHolder("f-undo-due-holder", 5, "holding-execution", "holding-step"), new LockRequest("undo_due_once", key, 60_000));
        // the failure's first delivery starts b_resent's undo (which takes the key out of the trigger: the next read of
        // the context names no lock for the locked one), has c_refused's refused once, and leaves the locked one waiting;
        // its redelivery makes b_resent's lease due, starts c_refused's, and fails the locked one, which runs the saga's
        // pass again; the sweep sends b_resent's undo while the race's held statement waits
        try (DroppedAtClose created = new DroppedAtClose(jdbc)) {
            created.create("CREATE SEQUENCE test_refusals_" + suffix, "DROP SEQUENCE IF EXISTS test_refusals_" + suffix);
            created.create("CREATE FUNCTION test_refuse_once_" + suffix + "() RETURNS trigger AS $$ BEGIN"
                    + " IF nextval('test_refusals_" + suffix + "') = 1 THEN RAISE EXCEPTION 'refused once by the test'; END IF;"
                    + " RETURN NEW; END; $$ LANGUAGE plpgsql", "DROP FUNCTION IF EXISTS test_refuse_once_" + suffix + "()");
            created.create("CREATE TRIGGER test_refuse_once_" + suffix + " BEFORE UPDATE ON workflow_step_executions FOR EACH ROW"
                    + " WHEN (NEW.execution_id = '" + executionId + "' AND NEW.kind = 'compensation' AND NEW.step_id = 'c_refused'"
                    + " AND OLD.status = 'pending' AND NEW.status = 'running') EXECUTE FUNCTION test_refuse_once_" + suffix + "()",
                    "DROP TRIGGER IF EXISTS test_refuse_once_" + suffix + " ON workflow_step_executions");
            created.create("CREATE FUNCTION test_forget_key_" + suffix + "() RETURNS trigger AS $$ BEGIN"
                    + " UPDATE workflow_executions SET trigger_payload = trigger_payload - 'key' WHERE id = NEW.execution_id;"
                    + " RETURN NULL; END; $$ LANGUAGE plpgsql", "DROP FUNCTION IF EXISTS test_forget_key_" + suffix + "()");
            created.create("CREATE TRIGGER test_forget_key_" + suffix + " AFTER UPDATE ON workflow_step_executions FOR EACH ROW"
                    + " WHEN (NEW.execution_id = '" + executionId + "' AND NEW.kind = 'compensation' AND NEW.step_id = 'b_resent'"
                    + " AND OLD.status = 'pending' AND NEW.status = 'running') EXECUTE FUNCTION test_forget_key_" + suffix + "()",
                    "DROP TRIGGER IF EXISTS test_forget_key_" + suffix + " ON workflow_step_executions");
            // holds the race's statement (at most 30 s) while b_resent's lease is there, that is until the sweep has sent it
            created.create("CREATE FUNCTION test_after_sweep_" + suffix + "() RETURNS trigger AS $$ BEGIN"
                    + " FOR i IN 1..600 LOOP"
                    + " EXIT WHEN NOT EXISTS (SELECT 1 FROM workflow_step_executions WHERE execution_id = NEW.execution_id"
                    + " AND kind = 'compensation' AND step_id = 'b_resent' AND request_due_at IS NOT NULL);"
                    + " PERFORM pg_sleep(0.05); END LOOP; RETURN NEW; END; $$ LANGUAGE plpgsql",
                    "DROP FUNCTION IF EXISTS test_after_sweep_" + suffix + "()");
            created.create("CREATE TRIGGER test_after_sweep_" + suffix + " BEFORE UPDATE ON workflow_step_executions FOR EACH ROW"
                    + " WHEN (NEW.execution_id = '" + executionId + "' AND NEW.kind = 'compensation' AND NEW." + race.heldWhen()
                    + ") EXECUTE FUNCTION test_after_sweep_" + suffix + "()",
                    "DROP TRIGGER IF EXISTS test_after_sweep_" + suffix + " ON workflow_step_executions");
            org.apache.camel.spi.RouteController routes = shared().camelContext().getRouteController();
            routes.stopRoute(LOCK_SWEEP);
            try {
                FAILURE.cue(executionId);
                // c_refused's undo leaves with the redelivery's commit, after the pass the locked one's failure ran
                await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(50))
                        .until(() -> !requests(agents, executionId, "c_refused").stream().filter(r -> r.action().equals("undo_c")).toList().isEmpty());
                assertThat(query("SELECT status FROM workflow_step_executions WHERE execution_id = ? AND kind = 'compensation'"
                        + " AND step_id = ?", executionId, race.locked())).singleElement().satisfies(r -> assertThat(r).containsEntry("status", "failed"));
                // b_resent's undo went from the sweep, which left no lease of it for another send
                await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50))
                        .until(() -> undoRequestsOfB(executionId) > 0 && query("SELECT 1 FROM workflow_step_executions WHERE execution_id = ?"
                                + " AND kind = 'compensation' AND step_id = 'b_resent' AND request_due_at IS NOT NULL", executionId).isEmpty());
                // and once: a second send would reach the agent in well under the 3 s
                await().during(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(100))
                        .until(() -> undoRequestsOfB(executionId) == 1);
            } finally {
                routes.startRoute(LOCK_SWEEP);
            }
        } finally {
            locks.release(held.lockId());
        }
    }
}
