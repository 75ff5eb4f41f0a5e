package dev.agentcoordinator.engine;

import dev.agentcoordinator.locks.AcquireResult;
import dev.agentcoordinator.locks.LockHolder;
import dev.agentcoordinator.locks.LockRequest;
import dev.agentcoordinator.locks.ResourceLockStore;
import org.junit.jupiter.api.Test;

import java.sql.Timestamp;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static dev.agentcoordinator.engine.TestCoordinator.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The lock sweep notes a waiter blocked by a holder it cannot take the lock from without a try (LockRoutes): as a try would
 * note it (the holder, updated_at), and only a waiter of a version this coordinator runs.
 */
class LockSweepBlockedWaitersTest {
    private static final ResourceLockStore LOCKS = new ResourceLockStore(shared().dataSource());

    @Test
    void aBlockedWaiterIsNotedAsItsTryWouldNoteIt() {
        String user = "q-" + UUID.randomUUID().toString().substring(0, 8);
        AcquireResult.Acquired held = heldElsewhere(user);
        try {
            String mid = sendEvent("G_LOCK_ORDER_MID", "{\"user_id\":\"" + user + "\"}");
            await().atMost(Duration.ofSeconds(20)).until(() -> executionOf(mid) != null && waiter(executionOf(mid)) != null);
            String expected = "lock roadmap/" + user + " held by strategist (priority 5, execution holding-" + user + ", step set_goals) until "
                    + Json.time(held.expiresAt());
            Timestamp first = (Timestamp) waiter(executionOf(mid)).get("updated_at");
            // the sweep (every 50 ms here) notes it again and again: updated_at moves, the note names the holder
            await().atMost(Duration.ofSeconds(10)).until(() -> ((Timestamp) waiter(executionOf(mid)).get("updated_at")).after(first));
            assertThat(waiter(executionOf(mid)).get("waiting_for")).isEqualTo(expected);
            assertThat(stepRow(executionOf(mid), "change").get("status")).isEqualTo("pending");

            // released: its next try takes the lock (the agent does not answer; it runs)
            assertThat(LOCKS.release(held.lockId())).isTrue();
            await().atMost(Duration.ofSeconds(10)).until(() -> "running".equals(stepRow(executionOf(mid), "change").get("status")));
            query("UPDATE workflow_step_executions SET status = 'failed' WHERE execution_id = ? RETURNING id", executionOf(mid));
        } finally {
            LOCKS.release(held.lockId());
        }
    }

    /** A waiter no running coordinator tries must age out (find-lock-waiters.sql): the sweep does not note it either. */
    @Test
    void aBlockedWaiterOfAVersionNoCoordinatorRunsIsNotNoted() throws Exception {
        String user = "r-" + UUID.randomUUID().toString().substring(0, 8);
        AcquireResult.Acquired held = heldElsewhere(user);
        String execution = null;
        try {
            String mid = sendEvent("G_LOCK_ORDER_MID", "{\"user_id\":\"" + user + "\"}");
            await().atMost(Duration.ofSeconds(20)).until(() -> executionOf(mid) != null && waiter(executionOf(mid)) != null);
            execution = executionOf(mid);
            query("UPDATE workflow_executions SET workflow_version = 999 WHERE id = ? RETURNING id", execution);
            query("UPDATE workflow_step_executions SET updated_at = now() - interval '1 hour' WHERE execution_id = ? RETURNING id", execution);
            Thread.sleep(1000);   // 20 sweeps
            String id = execution;
            assertThat(query("SELECT 1 FROM workflow_step_executions WHERE execution_id = ? AND updated_at < now() - interval '59 minutes'", id))
                    .as("not noted: %s", waiter(id)).hasSize(1);
        } finally {
            LOCKS.release(held.lockId());
            if (execution != null) {
                query("UPDATE workflow_step_executions SET status = 'failed', waiting_for = NULL WHERE execution_id = ? RETURNING id", execution);
            }
        }
    }

    private static AcquireResult.Acquired heldElsewhere(String user) {
        return (AcquireResult.Acquired) LOCKS.acquire(new LockHolder("strategist", 5, "holding-" + user, "set_goals"),
                new LockRequest("roadmap", user, 600_000));
    }

    private static Map<String, Object> waiter(String execution) {
        List<Map<String, Object>> rows = query("SELECT waiting_for, updated_at FROM workflow_step_executions"
                + " WHERE execution_id = ? AND waiting_for IS NOT NULL", execution);
        return rows.isEmpty() ? null : rows.get(0);
    }
}
