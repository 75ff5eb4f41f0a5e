-- An execution that already left 'running', with what its outcome event carries; or one compensating, whose
-- compensations the replayed message may have started (AFTER_SETTLED takes it to its compensate route, which
-- sends again the requests of those it started: its earlier delivery's rollback took them away).
SELECT e.status, e.workflow_id, COALESCE(e.result, '{}'::jsonb)::text AS results,
       outcome_failures(e.id) AS failures   -- as every path that sends the event lists them (V24)
FROM workflow_executions e
WHERE e.id = :#executionId
  AND e.status IN ('completed', 'failed', 'cancelled', 'compensated', 'compensation_failed', 'compensating')
