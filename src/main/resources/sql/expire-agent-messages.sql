-- Messages whose response did not come in time; SKIP LOCKED lets several instances share the sweep.
UPDATE agent_messages m
   SET status = 'timed_out'
  FROM (SELECT id FROM agent_messages
         WHERE status IN ('pending', 'delivered') AND requires_response AND expires_at < now()
         ORDER BY expires_at LIMIT CAST(:#sweepLimit AS integer) FOR UPDATE SKIP LOCKED) due
 WHERE m.id = due.id
RETURNING m.id, m.from_agent, m.to_agent, m.message_type, m.reply_to, m.correlation_id
