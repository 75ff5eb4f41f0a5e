-- running -> pending with next_attempt_at (waiting for its next attempt, V22); the retry sweep
-- (start-due-retries.sql) dispatches the next attempt when it is due. Returns the
-- execution and when the attempt began (the reply may have named only its step). An error reply's
-- signals and shared memory go to the execution's shared context, as in fail-step.sql. Its progress, if
-- any, replaces the step's as a heartbeat's would: the retry resumes from it.
WITH retrying AS (
    UPDATE workflow_step_executions s
       SET status = 'pending', error = :#error, deadline = NULL, updated_at = now(), request_due_at = NULL,
           progress = COALESCE(CAST(:#replyProgress AS jsonb), s.progress),
           -- doubling from the budget's first attempt (V20), at most 2^20 times and at most backoff_max_ms, with its
           -- jitter (V48), as StepConfig.backoffBeforeAttempt
           next_attempt_at = now() + retry_delay(backoff_ms, attempt - 1 - budget_start, backoff_max_ms, backoff_jitter)
     WHERE s.id = :#rowId AND s.attempt = :#attempt AND s.status = 'running' AND s.kind = :#kind
       AND s.step_id = :#stepId AND s.max_attempts = CAST(:#maxAttempts AS integer)   -- as the correlation id names them
       AND (s.deadline IS NULL OR s.deadline >= COALESCE(to_timestamp(CAST(:#replyArrivedAt AS bigint) / 1000.0), '-infinity'))
    RETURNING s.id, s.attempt, s.execution_id, s.step_id, s.agent
)
SELECT r.execution_id, settle_error_reply(r.id, r.attempt, r.execution_id, r.step_id, r.agent,
                                          CAST(:#sharedMemory AS jsonb), CAST(:#signals AS jsonb)) AS attempt_started_at
FROM retrying r
