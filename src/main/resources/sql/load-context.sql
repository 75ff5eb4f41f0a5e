-- Everything a step needs to decide whether and how to run: the trigger, the shared context and the
-- latest iteration of every step of the execution.
SELECT e.status AS execution_status, e.trigger_payload::text AS trigger_payload,
       e.shared_memory::text AS shared_memory,
       s.id AS row_id, s.step_id, s.status, s.output::text AS output, s.iteration
FROM workflow_executions e
LEFT JOIN LATERAL (
    SELECT DISTINCT ON (step_id) id, step_id, status, output, iteration
    FROM workflow_step_executions
    WHERE execution_id = e.id AND kind = 'step'
    ORDER BY step_id, iteration DESC
) s ON true
WHERE e.id = :#executionId
