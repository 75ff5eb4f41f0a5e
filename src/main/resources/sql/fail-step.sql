-- running -> failed. Returns the execution and when the attempt began (the reply may have named only
-- its step). The output is kept when the reply had one: a loop that fails when exhausted ends on it.
-- An error reply's signals and shared memory go to the execution's shared context, as a result's do
-- (an agent may raise a signal about what made it fail); a compensation's never carry any.
WITH failed AS (
    UPDATE workflow_step_executions s
       SET status = 'failed', error = :#error, output = CAST(:#output AS jsonb), completed_at = now(), deadline = NULL, updated_at = now()
     WHERE s.id = :#rowId AND s.attempt = :#attempt AND s.status = 'running' AND s.kind = :#kind
    RETURNING s.id, s.attempt, s.execution_id, s.step_id, s.agent
)
SELECT f.execution_id,
       (SELECT a.started_at FROM step_attempts a WHERE a.step_execution_id = f.id AND a.attempt = f.attempt) AS attempt_started_at,
       -- in the select list, so that it runs for the row (a join whose columns nothing reads may be left out)
       CASE WHEN CAST(:#signals AS jsonb) <> '[]' OR CAST(:#sharedMemory AS jsonb) <> '{}'
            THEN (SELECT true FROM merge_reply_context(f.execution_id, f.step_id, f.agent,
                                                      CAST(:#sharedMemory AS jsonb), CAST(:#signals AS jsonb))) END AS context_merged
FROM failed f
