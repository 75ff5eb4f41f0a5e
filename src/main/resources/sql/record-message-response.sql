-- The recipient's response, accepted only while the message awaits one (not after its timeout), or
-- again when the broker delivers it again: the delivery before recorded it, and the forward to the
-- sender it made went with the JMS transaction that failed after it.
UPDATE agent_messages
   SET status = 'responded', response = CAST(:#messageResponse AS jsonb), responded_at = now()
 WHERE id = :#messageId AND requires_response
   AND (status IN ('pending', 'delivered') OR (CAST(:#redelivery AS boolean) AND status = 'responded'))
RETURNING id, from_agent, to_agent, message_type, reply_to, correlation_id
