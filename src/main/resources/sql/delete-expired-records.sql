-- Retention: the records kept beside executions, more than coordinator.retention.days old: replies no step was
-- waiting for, agent messages that are no longer pending nor waiting for their response (nor for the timeout
-- notice to its sender), lock preemptions. The two tables with serial ids
-- are read oldest first through their time's index (V25).
WITH cutoff AS (SELECT now() - make_interval(days => CAST(:#retentionDays AS integer)) AS at),
replies AS (
    DELETE FROM ignored_replies r
     USING (SELECT id FROM ignored_replies, cutoff WHERE received_at < cutoff.at
             ORDER BY received_at LIMIT CAST(:#sweepLimit AS integer) FOR UPDATE SKIP LOCKED) expired
     WHERE r.id = expired.id
    RETURNING 1
), messages AS (
    DELETE FROM agent_messages m
     USING (SELECT id FROM agent_messages, cutoff WHERE created_at < cutoff.at AND status <> 'pending'
               -- still waiting for its response, or for the expiry sweep to time it out; or its sender is still
               -- due a timeout notice (V26)
               AND NOT (status = 'delivered' AND requires_response) AND notice_due_at IS NULL
             ORDER BY created_at LIMIT CAST(:#sweepLimit AS integer) FOR UPDATE SKIP LOCKED) expired
     WHERE m.id = expired.id
    RETURNING 1
), preemptions AS (
    DELETE FROM lock_events l
     USING (SELECT id FROM lock_events, cutoff WHERE created_at < cutoff.at
             ORDER BY created_at LIMIT CAST(:#sweepLimit AS integer) FOR UPDATE SKIP LOCKED) expired
     WHERE l.id = expired.id
    RETURNING 1
)
SELECT (SELECT count(*) FROM replies) + (SELECT count(*) FROM messages) + (SELECT count(*) FROM preemptions) AS deleted
