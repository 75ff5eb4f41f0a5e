-- Completes one loop iteration and starts the next in the same statement, so the execution never
-- looks finished in between.
WITH done AS (
    UPDATE workflow_step_executions
       SET status = 'completed', output = CAST(:#output AS jsonb), completed_at = now(), deadline = NULL,
           updated_at = now()
     WHERE id = :#rowId AND attempt = :#attempt AND status = 'running'
    RETURNING execution_id, step_id, iteration, agent, action, max_attempts, timeout_ms, backoff_ms, compensation,
              holds_locks, request_context
), memory AS (
    UPDATE workflow_executions e
       SET shared_memory = e.shared_memory || CAST(:#sharedMemory AS jsonb)
      FROM done
     WHERE e.id = done.execution_id AND CAST(:#sharedMemory AS jsonb) <> '{}'::jsonb
    RETURNING e.id
), signals AS (
    INSERT INTO execution_signals (execution_id, step_id, from_agent, signal_type, data)
    SELECT done.execution_id, done.step_id, done.agent, s->>'signal_type', s->'data'
      FROM done, jsonb_array_elements(CAST(:#signals AS jsonb)) s
    RETURNING id
)
INSERT INTO workflow_step_executions (id, execution_id, step_id, iteration, agent, action, status, attempt,
                                      max_attempts, timeout_ms, backoff_ms, compensation, input, started_at, deadline,
                                      handled_by, holds_locks, request_context)
SELECT :#nextRowId, execution_id, step_id, iteration + 1, agent, action, 'running', 1,
       max_attempts, timeout_ms, backoff_ms, compensation, CAST(:#nextInput AS jsonb), now(),
       now() + timeout_ms * interval '1 millisecond', current_setting('application_name'), holds_locks, request_context
FROM done
RETURNING iteration, deadline, request_context::text AS context
