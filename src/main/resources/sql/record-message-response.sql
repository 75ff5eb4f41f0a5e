-- The recipient's response, accepted only while the message awaits one (not after its timeout).
UPDATE agent_messages
   SET status = 'responded', response = CAST(:#messageResponse AS jsonb), responded_at = now()
 WHERE id = :#messageId AND status IN ('pending', 'delivered') AND requires_response
RETURNING id, from_agent, to_agent, message_type, reply_to, correlation_id
