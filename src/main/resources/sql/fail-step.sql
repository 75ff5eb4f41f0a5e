-- running -> failed. Returns the execution and when the attempt began (the reply may have named only
-- its step). The output is kept when the reply had one: a loop that fails when exhausted ends on it.
-- An error reply's signals and shared memory go to the execution's shared context, as a result's do
-- (an agent may raise a signal about what made it fail); a compensation's never carry any. Its
-- progress, if any, is kept as a heartbeat's: a retry of the execution resumes the step from it.
WITH failed AS (
    UPDATE workflow_step_executions s
       SET status = 'failed', error = :#error, output = CAST(:#output AS jsonb), completed_at = now(), deadline = NULL, updated_at = now(),
           progress = COALESCE(CAST(:#replyProgress AS jsonb), s.progress)
     WHERE s.id = :#rowId AND s.attempt = :#attempt AND s.status = 'running' AND s.kind = :#kind
       AND s.step_id = :#stepId AND s.max_attempts = CAST(:#maxAttempts AS integer)   -- as the correlation id names them
       AND (s.deadline IS NULL OR s.deadline >= COALESCE(to_timestamp(CAST(:#replyArrivedAt AS bigint) / 1000.0), '-infinity'))
    RETURNING s.id, s.attempt, s.execution_id, s.step_id, s.agent
)
SELECT f.execution_id, settle_error_reply(f.id, f.attempt, f.execution_id, f.step_id, f.agent,
                                          CAST(:#sharedMemory AS jsonb), CAST(:#signals AS jsonb)) AS attempt_started_at
FROM failed f
