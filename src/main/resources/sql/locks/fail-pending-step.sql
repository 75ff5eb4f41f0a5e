-- JDBC: a pending step that cannot start (a lock's resource id has no value): pending -> failed.
-- Parameters: error, row id.
UPDATE workflow_step_executions
   SET status = 'failed', error = ?, completed_at = now(), waiting_for = NULL, waiting_since = NULL, updated_at = now()
 WHERE id = ? AND status = 'pending' AND next_attempt_at IS NULL
