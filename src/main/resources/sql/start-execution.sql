-- Creates the execution and a pending row for every step in one statement; nothing when the event
-- already started one (idempotency on trigger_event_key).
WITH execution AS (
    INSERT INTO workflow_executions (id, workflow_id, workflow_version, trigger_event_key, trigger_payload,
                                     status, started_at, deadline)
    VALUES (:#executionId, :#workflowId, :#workflowVersion, :#eventKey, CAST(:#triggerPayload AS jsonb),
            'running', now(), now() + :#timeoutMs * interval '1 millisecond')
    ON CONFLICT (trigger_event_key) DO NOTHING
    RETURNING id
)
INSERT INTO workflow_step_executions (id, execution_id, step_id, agent, action, max_attempts, timeout_ms, backoff_ms,
                                      compensation)
SELECT gen_random_uuid()::text, execution.id, s.step_id, s.agent, s.action, s.max_attempts, s.timeout_ms, s.backoff_ms,
       s.compensation
FROM execution, jsonb_to_recordset(CAST(:#stepPlan AS jsonb))
     AS s(step_id text, agent text, action text, max_attempts int, timeout_ms bigint, backoff_ms bigint, compensation jsonb)
RETURNING execution_id
