-- Retention: events received more than coordinator.retention.days ago whose execution is gone (or that started
-- none). An event is the key that keeps a redelivery from starting its workflow twice, so it stays as long as
-- its execution does, and an outcome event as long as the execution whose outcome it is.
DELETE FROM agent_events a
 USING (SELECT id FROM agent_events ev
         WHERE received_at < now() - make_interval(days => CAST(:#retentionDays AS integer))
           AND (execution_id IS NULL OR NOT EXISTS (SELECT 1 FROM workflow_executions x WHERE x.id = ev.execution_id))
           -- an outcome event (<execution>:<status>[:<n>]) stays while the execution whose outcome it is does: a late
           -- reply to that execution publishes it again, and only its key keeps the chained workflow from starting twice
           AND NOT EXISTS (SELECT 1 FROM workflow_executions c WHERE c.id = split_part(ev.event_key, ':', 1))
         ORDER BY received_at
         LIMIT CAST(:#sweepLimit AS integer)
         FOR UPDATE SKIP LOCKED) expired
 WHERE a.id = expired.id
