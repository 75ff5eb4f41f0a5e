-- Ends a compensating execution once every compensation has settled.
UPDATE workflow_executions e
   SET status = CASE WHEN EXISTS (SELECT 1 FROM workflow_step_executions c
                                   WHERE c.execution_id = e.id AND c.kind = 'compensation' AND c.status <> 'completed')
                     THEN 'compensation_failed' ELSE 'compensated' END,
       completed_at = now()
 WHERE e.id = :#executionId AND e.status = 'compensating'
   AND NOT EXISTS (SELECT 1 FROM workflow_step_executions c
                    WHERE c.execution_id = e.id AND c.status IN ('pending', 'running'))
RETURNING e.status, e.workflow_id,
          COALESCE((SELECT jsonb_agg(jsonb_build_object('step_id', f.step_id, 'kind', f.kind, 'status', f.status, 'error', f.error))
                      FROM workflow_step_executions f
                     WHERE f.execution_id = e.id AND f.status = 'failed'), '[]'::jsonb)::text AS failures
