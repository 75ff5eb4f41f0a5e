-- JDBC, in the transaction that took the locks of the step a compensation undoes: pending -> running, only while
-- its execution compensates, as mark-compensation-running.sql. The row now holds the locks (settling it releases
-- them, V3_1; they stay in force while it runs, V38).
-- The locks it took are kept (waiting_locks, V53): a retry requeued to take them again waits for them
-- (find-lock-waiters.sql).
-- Parameters: input, the number of locks taken, the locks ([[resource_type, resource_id], ...]), the message that caused
-- it (dispatched_by, may be null) twice, row id.
UPDATE workflow_step_executions s
   SET status = 'running', attempt = s.attempt + 1,
       -- a retry (requeued by start-due-retries.sql to take its locks again) keeps the input of the attempt before
       input = CASE WHEN s.attempt > 0 THEN s.input ELSE CAST(? AS jsonb) END,
       holds_locks = true, lock_count = CAST(? AS smallint), waiting_locks = CAST(? AS jsonb), waiting_for = NULL, waiting_since = NULL,
       started_at = now(), error = NULL, deadline = now() + s.timeout_ms * interval '1 millisecond', updated_at = now(),
       handled_by = current_setting('application_name'), dispatched_by = ?,
       -- started by a sweep, with no message to redeliver: its request's lease (V27), from when the row is taken
       -- (clock_timestamp), not from the transaction's start, before the locks were taken (waits on their rows, deadlock
       -- retries): a lease that ran out as it committed had another coordinator's retry sweep send the undo again
       request_due_at = CASE WHEN CAST(? AS varchar) IS NULL THEN clock_timestamp() + GREATEST(1000, LEAST(30000, s.timeout_ms / 3)) * interval '1 millisecond' END
 WHERE s.id = ? AND s.status = 'pending' AND s.next_attempt_at IS NULL AND s.kind = 'compensation'
   AND EXISTS (SELECT 1 FROM workflow_executions e WHERE e.id = s.execution_id AND e.status = 'compensating')
RETURNING s.input::text AS input, s.attempt, s.iteration, s.deadline, s.agent, s.action
