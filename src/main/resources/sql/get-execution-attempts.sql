-- Every attempt of every step row of one execution (step_attempts: retries, timeouts, a retried
-- execution's earlier attempts), for GET /api/executions/{id}; matched to their step by step_id,
-- iteration and kind.
SELECT s.step_id, s.iteration, s.kind, a.attempt, a.status, a.error, a.started_at, a.completed_at
FROM step_attempts a JOIN workflow_step_executions s ON s.id = a.step_execution_id
WHERE a.execution_id = :#executionId
ORDER BY s.step_id, s.iteration, s.kind, a.attempt
