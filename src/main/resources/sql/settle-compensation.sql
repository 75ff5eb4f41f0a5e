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
          outcome_failures(e.id) AS failures   -- as every path that sends the event lists them (V24)
