-- JDBC, batched by the lock sweep (LockRoutes): a waiter whose try would fail (one of its locks is held in force by a holder it
-- cannot take it from, waiting-lock-steps.sql's blocked_by) is noted as its try would note it, without the try: what it waits
-- for (AcquireResult.Blocked.describe) and updated_at, which says it was tried (find-lock-waiters.sql: a waiter tried lately is
-- waited for; expire-lock-waits.sql: tried once more since its time ran out; waiting-lock-steps.sql: tried longest ago first).
-- Only while it still waits with a note of a lock wait (not one that started, failed or was requeued meanwhile).
-- Parameters: what it waits for, row id.
UPDATE workflow_step_executions
   SET waiting_for = ?, updated_at = now()
 WHERE id = ? AND status = 'pending' AND next_attempt_at IS NULL AND starts_with(waiting_for, 'lock ')
