-- Cancels a running execution: it ends 'cancelled' and nothing more is dispatched.
WITH cancelled AS (
    UPDATE workflow_executions
       SET status = 'cancelled', completed_at = now(), error = :#reason
     WHERE id = :#executionId AND status = 'running'
    RETURNING id, workflow_id
), settled AS (
    UPDATE workflow_step_executions s
       SET status = CASE WHEN s.status = 'pending' THEN 'skipped' ELSE 'cancelled' END,
           error = :#reason, completed_at = now(), deadline = NULL, next_attempt_at = NULL, updated_at = now()
      FROM cancelled
     WHERE s.execution_id = cancelled.id AND s.status IN ('pending', 'running', 'retrying')
    RETURNING s.step_id
)
SELECT cancelled.id AS execution_id, cancelled.workflow_id, (SELECT count(*) FROM settled) AS settled_steps
FROM cancelled
