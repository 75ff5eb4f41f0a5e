-- An execution that already left 'running', with what its outcome event carries.
SELECT e.status, e.workflow_id, COALESCE(e.result, '{}'::jsonb)::text AS results,
       COALESCE((SELECT jsonb_agg(jsonb_build_object('step_id', s.step_id, 'error', s.error))
                   FROM workflow_step_executions s
                  WHERE s.execution_id = e.id AND s.kind = 'step' AND s.status = 'failed'), '[]'::jsonb)::text AS failures
FROM workflow_executions e
WHERE e.id = :#executionId AND e.status IN ('completed', 'failed', 'cancelled', 'compensated', 'compensation_failed')
