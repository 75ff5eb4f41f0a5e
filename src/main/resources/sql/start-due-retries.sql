-- pending with next_attempt_at (waiting for its next attempt, V22) -> running with the next attempt, for
-- every step whose backoff has elapsed; with what the
-- attempts before reported as their progress (V19), which the request carries. A step that holds locks
-- goes back to pending instead, waiting for its locks (requeued): the lock sweep (waiting-lock-steps.sql)
-- sends it through its step route, which takes them again before the next attempt starts, or waits for
-- them as the first attempt did. Its locks may have lapsed or been taken (a preemption) meanwhile. So does a
-- compensation that holds the locks of the step it undoes (the lock sweep sends it through its compensate route).
-- An attempt started here carries a lease on its request (V27), which request-sent.sql clears once the
-- request left: 30 seconds, or a third of the attempt's timeout when that is shorter, so that a lost request is
-- sent again with two thirds of its attempt's time left (its deadline stays: a request whose send keeps failing
-- still times out); at least 1 second: a sweep's batch that took longer than a third of a 1 s timeout to record its
-- sends had another coordinator's sweep send them again (two coordinators under load, 3 to 22 requests in 90 s). The running attempts whose lease ran out (their request may never have left: a stop or a
-- failed send after a start that no message caused; a failed send makes the lease due at once, request-unsent.sql)
-- come back too, marked resent, with a new lease; a lease left on a row no longer running is cleared.
WITH requeued AS (
    UPDATE workflow_step_executions s
       SET status = 'pending', next_attempt_at = NULL, updated_at = now(), waiting_since = now(),
           waiting_for = 'its locks again, for attempt ' || (s.attempt + 1)
      FROM (SELECT id FROM workflow_step_executions
             WHERE next_attempt_at <= now() AND status = 'pending' AND holds_locks
             ORDER BY next_attempt_at LIMIT CAST(:#sweepLimit AS integer) FOR UPDATE SKIP LOCKED) due,
           workflow_executions e
     WHERE s.id = due.id AND e.id = s.execution_id
       AND (e.status = 'running' OR (e.status = 'compensating' AND s.kind = 'compensation'))
), started AS (
    UPDATE workflow_step_executions s
       SET status = 'running', attempt = s.attempt + 1, next_attempt_at = NULL, error = NULL,
           deadline = capped_deadline(s.execution_id, s.kind, now() + s.timeout_ms * interval '1 millisecond'), updated_at = now(),
           handled_by = current_setting('application_name'), dispatched_by = NULL,
           request_due_at = now() + GREATEST(1000, LEAST(30000, s.timeout_ms / 3)) * interval '1 millisecond'
      FROM (SELECT id FROM workflow_step_executions
             WHERE next_attempt_at <= now() AND status = 'pending' AND NOT holds_locks
             ORDER BY next_attempt_at LIMIT CAST(:#sweepLimit AS integer) FOR UPDATE SKIP LOCKED) due,
           workflow_executions e
     WHERE s.id = due.id AND e.id = s.execution_id AND e.status IN ('running', 'compensating')
       -- a step's next attempt not past its execution's deadline: the execution's timeout settles it (V39)
       AND (s.kind = 'compensation' OR e.deadline IS NULL OR e.deadline > now())
    RETURNING false AS resent, s.id AS row_id, s.execution_id, s.step_id, s.iteration, s.kind, s.agent, s.action,
              s.attempt, s.max_attempts, s.input::text AS input, s.deadline, e.workflow_id, e.workflow_version,
              s.request_context::text AS context, s.progress::text AS progress
), unsent AS (
    -- pending rows are left to the statement that starts them next, which sets the lease anew; one past its deadline
    -- to the timeout sweep: its agent would get the request with no time left (a 1 s timeout has a 1 s lease)
    UPDATE workflow_step_executions s
       SET request_due_at = CASE WHEN s.status = 'running' AND e.status IN ('running', 'compensating')
                                      AND (s.deadline IS NULL OR s.deadline > now())
                                 THEN now() + GREATEST(1000, LEAST(30000, s.timeout_ms / 3)) * interval '1 millisecond' END,
           -- the lease is this coordinator's now: one whose sweep read the row before, still sending its batch, does
           -- not send it too (request-still-due.sql)
           handled_by = CASE WHEN s.status = 'running' AND e.status IN ('running', 'compensating')
                                  AND (s.deadline IS NULL OR s.deadline > now())
                             THEN current_setting('application_name') ELSE s.handled_by END
      FROM (SELECT id FROM workflow_step_executions
             WHERE request_due_at < now() AND status <> 'pending'
             ORDER BY request_due_at LIMIT CAST(:#sweepLimit AS integer) FOR UPDATE SKIP LOCKED) due,
           workflow_executions e
     WHERE s.id = due.id AND e.id = s.execution_id
    -- resent NULL: not sent. A row (a step's or an undo's) that still names the message that started it (dispatched_by)
    -- was made due by that message's redelivery, its earlier delivery rolled back (request-due.sql): its request never
    -- left, and goes as a first send, its deadline from that send (request-still-due.sql)
    RETURNING CASE WHEN s.request_due_at IS NOT NULL THEN s.dispatched_by IS NULL END AS resent,
              s.id AS row_id, s.execution_id, s.step_id, s.iteration, s.kind,
              s.agent, s.action, s.attempt, s.max_attempts, s.input::text AS input, s.deadline, e.workflow_id,
              e.workflow_version, s.request_context::text AS context, s.progress::text AS progress
)
SELECT * FROM started
UNION ALL
SELECT * FROM unsent WHERE resent IS NOT NULL
