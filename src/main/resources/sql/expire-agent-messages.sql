-- Messages whose response did not come in time; SKIP LOCKED lets several instances share the sweep. A
-- message with a reply destination is due a notice to its sender: notice_due_at is a lease, cleared by
-- notice-sent.sql once the notice left; a notice whose lease ran out (its sweep stopped before the send)
-- is sent again (V26).
WITH expired AS (
    UPDATE agent_messages m
       SET status = 'timed_out',
           notice_due_at = CASE WHEN m.reply_to IS NOT NULL THEN now() + interval '30 seconds' END
      FROM (SELECT id FROM agent_messages
             WHERE status IN ('pending', 'delivered') AND requires_response
               -- holdMs: while responses are queued, one that came in time may be waiting (ReplyBacklog);
               -- sweptAtMs: when that was judged (a statement kept waiting for a connection reaches no further)
               AND expires_at < LEAST(now(), to_timestamp(CAST(:#sweptAtMs AS double precision) / 1000))
                                - CAST(:#holdMs AS bigint) * interval '1 millisecond'
             ORDER BY expires_at LIMIT CAST(:#sweepLimit AS integer) FOR UPDATE SKIP LOCKED) due
     WHERE m.id = due.id
    RETURNING m.id, m.from_agent, m.to_agent, m.message_type, m.reply_to, m.correlation_id
), unsent AS (
    UPDATE agent_messages m
       SET notice_due_at = now() + interval '30 seconds'
      FROM (SELECT id FROM agent_messages
             WHERE notice_due_at < now()
             ORDER BY notice_due_at LIMIT CAST(:#sweepLimit AS integer) FOR UPDATE SKIP LOCKED) due
     WHERE m.id = due.id
    RETURNING m.id, m.from_agent, m.to_agent, m.message_type, m.reply_to, m.correlation_id
)
SELECT * FROM expired
UNION ALL
SELECT * FROM unsent
