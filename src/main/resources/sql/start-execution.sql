-- Stores the event and creates the execution with a row for every step, in one statement; when the
-- event was delivered before, it only counts the delivery and creates nothing (idempotency on
-- event_key and trigger_event_key). An event whose key another event of another type, or with another
-- payload, already has changes and creates nothing (the start route then refuses it, see find-event.sql). The root steps whose input comes from the trigger alone
-- (rootStarts: step id -> input) start running right here, attempt 1, so that their requests leave
-- without another round trip; every other step starts pending.
WITH stored_event AS (
    -- names the execution it starts; an event stored without one (by an older version that stopped
    -- between storing and starting) gets it now, when this statement creates the execution
    INSERT INTO agent_events (id, event_key, type, payload, workflow_id, execution_id)
    VALUES (:#eventRowId, :#eventKey, :#eventType, CAST(:#eventPayload AS jsonb), :#workflowId, :#executionId)
    ON CONFLICT (event_key) DO UPDATE
       SET deliveries = agent_events.deliveries + 1,
           execution_id = COALESCE(agent_events.execution_id, EXCLUDED.execution_id)
     WHERE agent_events.type = EXCLUDED.type AND COALESCE(agent_events.payload, '{}') = EXCLUDED.payload
), execution AS (
    INSERT INTO workflow_executions (id, workflow_id, workflow_version, trigger_event_key, trigger_payload,
                                     status, started_at, deadline, chain_depth)
    SELECT :#executionId, :#workflowId, :#workflowVersion, :#eventKey, CAST(:#triggerPayload AS jsonb),
           'running', now(), now() + :#timeoutMs * interval '1 millisecond', CAST(:#chainDepth AS integer)
     WHERE NOT EXISTS (SELECT 1 FROM agent_events ev WHERE ev.event_key = :#eventKey
                         AND (ev.type <> :#eventType OR COALESCE(ev.payload, '{}') <> CAST(:#eventPayload AS jsonb)))
    ON CONFLICT (trigger_event_key) DO NOTHING
    RETURNING id
)
INSERT INTO workflow_step_executions (id, execution_id, step_id, agent, action, max_attempts, timeout_ms, backoff_ms,
                                      backoff_max_ms, backoff_jitter,
                                      compensation, status, attempt, input, started_at, deadline, handled_by, dispatched_by)
SELECT gen_random_uuid()::text, execution.id, s.step_id, s.agent, s.action, s.max_attempts, s.timeout_ms, s.backoff_ms,
       s.backoff_max_ms, COALESCE(s.backoff_jitter, false),   -- a retry policy beyond doubling (V48), when set
       s.compensation,
       CASE WHEN r.input IS NULL THEN 'pending' ELSE 'running' END,
       CASE WHEN r.input IS NULL THEN 0 ELSE 1 END,
       r.input,
       CASE WHEN r.input IS NULL THEN NULL ELSE now() END,
       CASE WHEN r.input IS NULL THEN NULL ELSE now() + LEAST(s.timeout_ms, :#timeoutMs) * interval '1 millisecond' END,   -- no later than the execution's (V46)
       CASE WHEN r.input IS NULL THEN NULL ELSE current_setting('application_name') END,
       CASE WHEN r.input IS NULL THEN NULL ELSE CAST(:#causeMessageId AS varchar) END
FROM execution, jsonb_to_recordset(CAST(:#stepPlan AS jsonb))
     AS s(step_id text, agent text, action text, max_attempts int, timeout_ms bigint, backoff_ms bigint,
          backoff_max_ms bigint, backoff_jitter boolean, compensation jsonb),
     LATERAL (SELECT CAST(:#rootStarts AS jsonb) -> s.step_id AS input) r
RETURNING id AS row_id, execution_id, step_id, status, attempt, max_attempts, iteration, deadline, agent, action, input::text AS input
