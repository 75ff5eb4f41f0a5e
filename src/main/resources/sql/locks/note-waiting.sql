-- JDBC: a step that could not take its locks stays pending and says what it waits for; the wait
-- counts from the first time (the step's timeout bounds it, see expire-lock-waits.sql).
-- Every lock it asks for is kept with the note (V53): a newcomer for any of them yields to it (find-lock-waiters.sql).
-- Parameters: what it waits for, its locks ([[resource_type, resource_id], ...]), row id.
UPDATE workflow_step_executions
   SET waiting_for = ?, waiting_locks = CAST(? AS jsonb), waiting_since = COALESCE(waiting_since, now()), updated_at = now()
 WHERE id = ? AND status = 'pending' AND next_attempt_at IS NULL
