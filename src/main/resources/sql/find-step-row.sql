SELECT s.execution_id, s.step_id, s.iteration, s.kind, s.status, s.attempt, s.max_attempts,
       s.input::text AS input, s.deadline, e.workflow_id, s.request_context::text AS context
FROM workflow_step_executions s JOIN workflow_executions e ON e.id = s.execution_id
WHERE s.id = :#rowId
