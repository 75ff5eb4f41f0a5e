-- An execution that already left 'running', with what its outcome event carries.
SELECT e.status, e.workflow_id, COALESCE(e.result, '{}'::jsonb)::text AS results,
       outcome_failures(e.id) AS failures   -- as every path that sends the event lists them (V24)
FROM workflow_executions e
WHERE e.id = :#executionId AND e.status IN ('completed', 'failed', 'cancelled', 'compensated', 'compensation_failed')
