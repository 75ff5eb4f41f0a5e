-- Ends a compensating execution once every compensation has settled: compensated when each undid its step or had
-- nothing to undo (skipped: a held one whose step's work did not stand, V47), compensation_failed when one failed.
-- One whose every compensation had nothing to undo ends cancelled, as a cancel with nothing to undo does, and those
-- rows go: a retry of it (reset-failed-steps.sql) runs the steps again, and a later stop writes their compensations anew.
WITH settled AS (
UPDATE workflow_executions e
   SET status = CASE WHEN EXISTS (SELECT 1 FROM workflow_step_executions c
                                   WHERE c.execution_id = e.id AND c.kind = 'compensation' AND c.status NOT IN ('completed', 'skipped'))
                     THEN 'compensation_failed'
                     WHEN NOT EXISTS (SELECT 1 FROM workflow_step_executions c
                                       WHERE c.execution_id = e.id AND c.kind = 'compensation' AND c.status = 'completed')
                     THEN 'cancelled'
                     ELSE 'compensated' END,
       completed_at = now()
 WHERE e.id = :#executionId AND e.status = 'compensating'
   AND NOT EXISTS (SELECT 1 FROM workflow_step_executions c
                    WHERE c.execution_id = e.id AND c.status IN ('pending', 'running'))
RETURNING e.id, e.status, e.workflow_id
), forgotten AS (
    DELETE FROM workflow_step_executions c USING settled
     WHERE c.execution_id = settled.id AND settled.status = 'cancelled' AND c.kind = 'compensation'
)
SELECT status, workflow_id,
       outcome_failures(id) AS failures   -- as every path that sends the event lists them (V24)
  FROM settled
