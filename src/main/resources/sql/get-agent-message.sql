-- One message as GET /api/messages/{id} shows it.
SELECT jsonb_build_object('message_id', id, 'from', from_agent, 'to', to_agent, 'type', message_type,
                          'payload', payload, 'requires_response', requires_response, 'status', status,
                          'response', response, 'execution_id', execution_id, 'created_at', created_at,
                          'delivered_at', delivered_at, 'responded_at', responded_at, 'expires_at', expires_at)::text AS view
FROM agent_messages WHERE id = :#messageId
