-- pending -> running, only while the execution itself still runs, before its deadline. A loop's later iteration (run again by a
-- retry of its execution) keeps the input its previous iteration's feedback gave it; a later iteration of a loop over
-- several steps (loop.repeat_from) was created without one, and its step's input mapping gives it as for the first. A step run again by a retry of its
-- execution (reset-failed-steps.sql) returns the progress its earlier attempts reported (V19) for the request.
UPDATE workflow_step_executions s
   SET status = 'running', attempt = s.attempt + 1, input = CASE WHEN s.iteration > 0 AND s.input IS NOT NULL THEN s.input ELSE CAST(:#input AS jsonb) END, started_at = now(),
       deadline = LEAST(now() + s.timeout_ms * interval '1 millisecond', e.deadline), updated_at = now(),
       handled_by = current_setting('application_name'), dispatched_by = :#causeMessageId,
       -- started by a sweep or an HTTP call, with no message to redeliver: its request's lease (V27)
       request_due_at = CASE WHEN CAST(:#causeMessageId AS varchar) IS NULL THEN now() + GREATEST(1000, LEAST(30000, s.timeout_ms / 3)) * interval '1 millisecond' END
  FROM workflow_executions e   -- its deadline bounds the attempt's (V46)
 WHERE s.id = :#rowId AND s.status = 'pending' AND s.next_attempt_at IS NULL   -- not one waiting for its next attempt (V22)
   -- nothing is dispatched past the execution's deadline: its timeout settles it (V39)
   AND e.id = s.execution_id AND e.status = 'running' AND (e.deadline IS NULL OR e.deadline > now())
RETURNING s.attempt, s.max_attempts, s.iteration, s.deadline, s.progress::text AS progress,
          CASE WHEN s.iteration > 0 THEN s.input::text END AS input   -- the request carries it (prepareDispatch)
