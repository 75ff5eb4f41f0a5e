-- The recipient's response, accepted only while the message awaits one (not after its timeout), or
-- again when the broker delivers it again: the delivery before recorded it, and the forward to the
-- sender it made went with the JMS transaction that failed after it.
UPDATE agent_messages
   SET status = 'responded', response = CAST(:#messageResponse AS jsonb), responded_at = now(),
       responded_by = CAST(:#respondedBy AS varchar)
 WHERE id = :#messageId AND requires_response
   AND (status IN ('pending', 'delivered')
        -- the broker's flag, or the very JMS message that recorded it (a broker restart forgets the flag, V31)
        OR (status = 'responded' AND (CAST(:#redelivery AS boolean) OR responded_by = CAST(:#respondedBy AS varchar))))
RETURNING id, from_agent, to_agent, message_type, reply_to, correlation_id
