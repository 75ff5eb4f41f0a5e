-- Creates the execution and a row for every step in one statement, and links the stored event to
-- it; nothing when the event already started one (idempotency on trigger_event_key). The root steps
-- whose input comes from the trigger alone (rootStarts: step id -> input) start running right here,
-- attempt 1, so that their requests leave without another round trip; every other step starts pending.
WITH execution AS (
    INSERT INTO workflow_executions (id, workflow_id, workflow_version, trigger_event_key, trigger_payload,
                                     status, started_at, deadline)
    VALUES (:#executionId, :#workflowId, :#workflowVersion, :#eventKey, CAST(:#triggerPayload AS jsonb),
            'running', now(), now() + :#timeoutMs * interval '1 millisecond')
    ON CONFLICT (trigger_event_key) DO NOTHING
    RETURNING id
), linked_event AS (
    -- the stored event names the execution it started (runs whether or not the query reads it)
    UPDATE agent_events SET execution_id = execution.id
      FROM execution
     WHERE event_key = :#eventKey AND agent_events.execution_id IS NULL
)
INSERT INTO workflow_step_executions (id, execution_id, step_id, agent, action, max_attempts, timeout_ms, backoff_ms,
                                      compensation, status, attempt, input, started_at, deadline, handled_by)
SELECT gen_random_uuid()::text, execution.id, s.step_id, s.agent, s.action, s.max_attempts, s.timeout_ms, s.backoff_ms,
       s.compensation,
       CASE WHEN r.input IS NULL THEN 'pending' ELSE 'running' END,
       CASE WHEN r.input IS NULL THEN 0 ELSE 1 END,
       r.input,
       CASE WHEN r.input IS NULL THEN NULL ELSE now() END,
       CASE WHEN r.input IS NULL THEN NULL ELSE now() + s.timeout_ms * interval '1 millisecond' END,
       CASE WHEN r.input IS NULL THEN NULL ELSE current_setting('application_name') END
FROM execution, jsonb_to_recordset(CAST(:#stepPlan AS jsonb))
     AS s(step_id text, agent text, action text, max_attempts int, timeout_ms bigint, backoff_ms bigint, compensation jsonb),
     LATERAL (SELECT CAST(:#rootStarts AS jsonb) -> s.step_id AS input) r
RETURNING id AS row_id, execution_id, step_id, status, attempt, max_attempts, iteration, deadline, agent, action, input::text AS input
