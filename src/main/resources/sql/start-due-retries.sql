-- pending with next_attempt_at (waiting for its next attempt, V22) -> running with the next attempt, for
-- every step whose backoff has elapsed; with what the
-- attempts before reported as their progress (V19), which the request carries. A step that holds locks
-- goes back to pending instead, waiting for its locks (requeued): the lock sweep (waiting-lock-steps.sql)
-- sends it through its step route, which takes them again before the next attempt starts, or waits for
-- them as the first attempt did. Its locks may have lapsed or been taken (a preemption) meanwhile.
WITH requeued AS (
    UPDATE workflow_step_executions s
       SET status = 'pending', next_attempt_at = NULL, updated_at = now(), waiting_since = now(),
           waiting_for = 'its locks again, for attempt ' || (s.attempt + 1)
      FROM (SELECT id FROM workflow_step_executions
             WHERE next_attempt_at <= now() AND status = 'pending' AND holds_locks
             ORDER BY next_attempt_at LIMIT CAST(:#sweepLimit AS integer) FOR UPDATE SKIP LOCKED) due,
           workflow_executions e
     WHERE s.id = due.id AND e.id = s.execution_id AND e.status = 'running'
)
UPDATE workflow_step_executions s
   SET status = 'running', attempt = s.attempt + 1, next_attempt_at = NULL, error = NULL,
       deadline = now() + s.timeout_ms * interval '1 millisecond', updated_at = now(),
       handled_by = current_setting('application_name'), dispatched_by = NULL
  FROM (SELECT id FROM workflow_step_executions
         WHERE next_attempt_at <= now() AND status = 'pending' AND NOT holds_locks
         ORDER BY next_attempt_at LIMIT CAST(:#sweepLimit AS integer) FOR UPDATE SKIP LOCKED) due,
       workflow_executions e
 WHERE s.id = due.id AND e.id = s.execution_id AND e.status IN ('running', 'compensating')
RETURNING s.id AS row_id, s.execution_id, s.step_id, s.iteration, s.kind, s.agent, s.action, s.attempt, s.max_attempts,
          s.input::text AS input, s.deadline, e.workflow_id, e.workflow_version, s.request_context::text AS context,
          s.progress::text AS progress
