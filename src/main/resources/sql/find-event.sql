-- The event stored under a key, with the execution it started (null when none): a repeated delivery
-- finds its execution; an event that reuses another event's key finds that other event's type, or
-- (same_payload false) its other payload. A payload stored as NULL (no writer of this release stores one)
-- counts as {}, as an event without payload is stored, here and in store-event.sql and start-execution.sql.
SELECT ev.type AS event_type, COALESCE(ev.payload, '{}') = CAST(:#eventPayload AS jsonb) AS same_payload, ev.received_at,
       x.id, x.status, x.workflow_id, x.workflow_version
FROM agent_events ev
LEFT JOIN workflow_executions x ON x.trigger_event_key = ev.event_key
WHERE ev.event_key = :#eventKey
