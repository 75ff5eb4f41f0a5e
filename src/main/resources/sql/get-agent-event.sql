-- One event as GET /api/events/{id} shows it: the execution it started, if any.
SELECT jsonb_build_object('event_id', event_key, 'type', type, 'payload', payload, 'workflow_id', workflow_id,
                          'execution_id', execution_id, 'deliveries', deliveries, 'received_at', received_at)::text AS view
FROM agent_events WHERE event_key = :#eventId
