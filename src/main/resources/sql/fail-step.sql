-- running -> failed. Returns the execution and when the attempt began (the reply may have named only
-- its step).
UPDATE workflow_step_executions s
   SET status = 'failed', error = :#error, completed_at = now(), deadline = NULL, updated_at = now()
 WHERE s.id = :#rowId AND s.attempt = :#attempt AND s.status = 'running' AND s.kind = :#kind
RETURNING s.execution_id,
          (SELECT a.started_at FROM step_attempts a WHERE a.step_execution_id = s.id AND a.attempt = s.attempt) AS attempt_started_at
