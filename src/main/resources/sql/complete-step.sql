-- running -> completed, merging the reply's shared_memory into the execution (top-level keys,
-- under the row lock of the UPDATE, so parallel branches lose nothing) and storing its signals.
WITH done AS (
    UPDATE workflow_step_executions
       SET status = 'completed', output = CAST(:#output AS jsonb), error = NULL, completed_at = now(),
           deadline = NULL, updated_at = now()
     WHERE id = :#rowId AND attempt = :#attempt AND status = 'running'
    RETURNING execution_id, step_id, agent
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
SELECT count(*) AS applied FROM done
