-- JDBC, in the transaction that took the step's locks: pending -> running, only while the execution
-- runs, before its deadline. The row now holds locks (settling it releases them, see V3_1__agent_collaboration.sql).
-- The locks it took are kept (waiting_locks, V53): a retry or a loop's next iteration requeued to take them again waits
-- for them (find-lock-waiters.sql).
-- Parameters: input, request context (null unless config.include_context), the number of locks taken (V30), the locks
-- ([[resource_type, resource_id], ...]),
-- the message that caused it (dispatched_by, may be null) twice, row id.
UPDATE workflow_step_executions s
   SET status = 'running', attempt = s.attempt + 1,
       -- a retry (requeued by start-due-retries.sql to take its locks again, the failed attempt's error still
       -- on the row; a first attempt and a step reset by a retry of its execution have none) keeps the input and
       -- context of the attempt before, as a retry without locks does; a loop's later iteration keeps the input
       -- its previous iteration's feedback gave it. A later iteration of a loop over several steps (loop.repeat_from)
       -- was created without one for its steps after the first: their input mapping gives it, as mark-running.sql does
       -- (the request went out without an input). The request carries what is returned.
       input = CASE WHEN (s.iteration > 0 OR s.error IS NOT NULL) AND s.input IS NOT NULL THEN s.input ELSE CAST(? AS jsonb) END,
       request_context = CASE WHEN s.error IS NOT NULL THEN s.request_context ELSE CAST(? AS jsonb) END,
       holds_locks = true, lock_count = CAST(? AS smallint), waiting_locks = CAST(? AS jsonb), waiting_for = NULL, waiting_since = NULL, started_at = now(), error = NULL,
       deadline = LEAST(now() + s.timeout_ms * interval '1 millisecond', e.deadline), updated_at = now(),
       handled_by = current_setting('application_name'), dispatched_by = ?,
       -- started by a sweep (or an HTTP call), with no message to redeliver: its request's lease (V27), from when the row
       -- is taken (clock_timestamp), not from the transaction's start, before the locks were taken (as an undo's)
       request_due_at = CASE WHEN CAST(? AS varchar) IS NULL THEN clock_timestamp() + GREATEST(1000, LEAST(30000, s.timeout_ms / 3)) * interval '1 millisecond' END
  FROM workflow_executions e   -- its deadline bounds the attempt's (V46)
 WHERE s.id = ? AND s.status = 'pending' AND s.next_attempt_at IS NULL   -- not one waiting for its next attempt (V22)
   -- nothing is dispatched past the execution's deadline: its timeout settles it (V39)
   AND e.id = s.execution_id AND e.status = 'running' AND (e.deadline IS NULL OR e.deadline > now())
RETURNING s.input::text AS input, s.attempt, s.max_attempts, s.iteration, s.deadline, s.request_context::text AS context, s.progress::text AS progress
