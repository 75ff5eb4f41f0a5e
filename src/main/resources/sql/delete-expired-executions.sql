-- Retention: settled executions that ended more than coordinator.retention.days ago, the oldest first, with
-- their step rows, attempts and signals (ON DELETE CASCADE). SKIP LOCKED lets several instances share the sweep.
-- One whose onSuccess / onFailure event is still to send (outcome_outbox, V18) is kept until it is sent.
DELETE FROM workflow_executions e
 USING (SELECT id FROM workflow_executions
         WHERE status IN ('completed', 'failed', 'cancelled', 'compensated', 'compensation_failed')
           AND completed_at < now() - make_interval(days => CAST(:#retentionDays AS integer))
           AND NOT EXISTS (SELECT 1 FROM outcome_outbox o WHERE o.execution_id = workflow_executions.id)
         ORDER BY completed_at
         LIMIT CAST(:#sweepLimit AS integer)
         FOR UPDATE SKIP LOCKED) expired
 WHERE e.id = expired.id
