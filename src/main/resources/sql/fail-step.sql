-- running -> failed. Returns the execution and when the attempt began (the reply may have named only
-- its step). The output is kept when the reply had one: a loop that fails when exhausted ends on it.
UPDATE workflow_step_executions s
   SET status = 'failed', error = :#error, output = CAST(:#output AS jsonb), completed_at = now(), deadline = NULL, updated_at = now()
 WHERE s.id = :#rowId AND s.attempt = :#attempt AND s.status = 'running' AND s.kind = :#kind
RETURNING s.execution_id,
          (SELECT a.started_at FROM step_attempts a WHERE a.step_execution_id = s.id AND a.attempt = s.attempt) AS attempt_started_at
