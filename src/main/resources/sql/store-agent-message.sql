-- An agent-to-agent message is stored before it is delivered. A message whose id is known already
-- comes back only while it is still pending (a redelivery after a crash before delivery), or when the
-- broker delivers it again after it was marked delivered: that row committed, but the send it made
-- went with the JMS transaction that failed after it (the recipient may then get it twice, never
-- not at all). A sender's own second send of a delivered message (another JMS message) is not delivered again.
INSERT INTO agent_messages (id, from_agent, to_agent, message_type, payload, requires_response, status, expires_at,
                            reply_to, correlation_id, execution_id, accepted_by)
VALUES (:#messageId, :#fromAgent, :#toAgent, :#messageType, CAST(:#messagePayload AS jsonb), :#requiresResponse, 'pending',
        CASE WHEN CAST(:#requiresResponse AS boolean) THEN now() + CAST(:#timeoutMs AS bigint) * interval '1 millisecond' END,
        :#replyTo, :#correlationId, :#messageExecutionId, CAST(:#acceptedBy AS varchar))
-- a repost over HTTP (no JMS message) of a message still pending waits its full time again, from now
ON CONFLICT (id) DO UPDATE SET expires_at = CASE WHEN EXCLUDED.accepted_by IS NULL THEN EXCLUDED.expires_at ELSE agent_messages.expires_at END
 WHERE agent_messages.from_agent = EXCLUDED.from_agent AND agent_messages.to_agent = EXCLUDED.to_agent
   AND agent_messages.message_type = EXCLUDED.message_type   -- the same message, not another one reusing its id
   AND (agent_messages.status = 'pending'
    OR (agent_messages.status = 'delivered'
        -- the broker's flag, or the very JMS message that stored it (a broker restart forgets the flag, V31)
        AND (CAST(:#redelivery AS boolean) OR agent_messages.accepted_by = EXCLUDED.accepted_by)))
-- the delivery expires with the wait for its response: the time left, by this database's clock (the coordinator's
-- may differ)
RETURNING id, GREATEST(0, EXTRACT(EPOCH FROM expires_at - now()) * 1000)::bigint AS expires_in_ms
