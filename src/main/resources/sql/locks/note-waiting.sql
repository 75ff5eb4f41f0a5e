-- JDBC: a step that could not take its locks stays pending and says what it waits for; the wait
-- counts from the first time (the step's timeout bounds it, see expire-lock-waits.sql).
-- Parameters: what it waits for, row id.
UPDATE workflow_step_executions
   SET waiting_for = ?, waiting_since = COALESCE(waiting_since, now()), updated_at = now()
 WHERE id = ? AND status = 'pending' AND next_attempt_at IS NULL
