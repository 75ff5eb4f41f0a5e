-- JDBC, batched by the lock sweep (LockRoutes): a waiter whose try would fail (one of its locks is held in force by a holder it
-- cannot take it from, waiting-lock-steps.sql's blocked_by) is noted as its try would note it, without the try: what it waits
-- for (AcquireResult.Blocked.describe) and updated_at, which says it was tried (find-lock-waiters.sql: a waiter tried lately is
-- waited for; expire-lock-waits.sql: tried once more since its time ran out; waiting-lock-steps.sql: tried longest ago first).
-- Only while it still waits with a note of a lock wait (not one that started, failed or was requeued meanwhile), and
-- while the holder the note names still holds that lock in force: one that let go since the sweep read it leaves the
-- waiter to its try at the next sweep (noted as tried after its time ran out, it would fail for a lock already free).
-- Parameters: what it waits for, row id, the lock's resource type and id, the holder's execution and step.
UPDATE workflow_step_executions
   SET waiting_for = ?, updated_at = now()
 WHERE id = ? AND status = 'pending' AND next_attempt_at IS NULL AND starts_with(waiting_for, 'lock ')
   AND EXISTS (SELECT 1 FROM resource_locks l
                WHERE l.resource_type = ? AND l.resource_id = ? AND l.execution_id = ? AND l.step_id = ?
                  AND lock_in_force(l.expires_at, l.execution_id, l.step_id))
