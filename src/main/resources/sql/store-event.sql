-- Every event is stored once per key; a repeated delivery only counts. No row when the key is another
-- event's, of another type or with another payload (the route then refuses it, see find-event.sql).
INSERT INTO agent_events (id, event_key, type, payload, workflow_id)
VALUES (:#eventRowId, :#eventKey, :#eventType, CAST(:#eventPayload AS jsonb), :#workflowId)
ON CONFLICT (event_key) DO UPDATE SET deliveries = agent_events.deliveries + 1 WHERE agent_events.type = EXCLUDED.type AND COALESCE(agent_events.payload, '{}') = EXCLUDED.payload
RETURNING id, deliveries
