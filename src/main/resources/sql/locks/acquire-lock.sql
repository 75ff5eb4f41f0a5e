-- JDBC statement (positional parameters) run by ResourceLockStore.acquire. One statement decides,
-- under the row lock of ON CONFLICT, so concurrent acquirers never both win: the lock is taken when
-- nobody holds it, when the holder's lock is no longer in force (expired, and its step not running:
-- lock_in_force, V33), when the holder has a lower priority (preemption), or when the caller already
-- holds it (renewal). Otherwise no row is returned.
-- A preemption is recorded in lock_events and told to the preempted execution as a LOCK_PREEMPTED signal.
WITH request AS (
    SELECT CAST(? AS varchar) AS resource_type, CAST(? AS varchar) AS resource_id, CAST(? AS varchar) AS lock_id,
           CAST(? AS varchar) AS locked_by, CAST(? AS integer) AS priority, CAST(? AS varchar) AS execution_id,
           CAST(? AS varchar) AS step_id, CAST(? AS bigint) AS ttl_ms
), acquired AS (
    INSERT INTO resource_locks AS l (resource_type, resource_id, id, locked_by, priority, execution_id, step_id,
                                     locked_at, expires_at, ttl_ms, preempted)
    SELECT resource_type, resource_id, lock_id, locked_by, priority, execution_id, step_id,
           now(), now() + ttl_ms * interval '1 millisecond', ttl_ms, NULL
      FROM request
    ON CONFLICT (resource_type, resource_id) DO UPDATE
       SET id = EXCLUDED.id, locked_by = EXCLUDED.locked_by, priority = EXCLUDED.priority,
           execution_id = EXCLUDED.execution_id, step_id = EXCLUDED.step_id, locked_at = now(),
           expires_at = EXCLUDED.expires_at, ttl_ms = EXCLUDED.ttl_ms,
           cut_off_attempt = NULL,   -- a lock kept for an attempt a cancel cut off (V49) is the taker's own now
           preempted = CASE WHEN lock_in_force(l.expires_at, l.execution_id, l.step_id) AND l.priority < EXCLUDED.priority
                             AND (l.execution_id IS DISTINCT FROM EXCLUDED.execution_id
                                  OR l.step_id IS DISTINCT FROM EXCLUDED.step_id)
                            THEN jsonb_build_object('lock_id', l.id, 'locked_by', l.locked_by, 'priority', l.priority,
                                                    'execution_id', l.execution_id, 'step_id', l.step_id,
                                                    'locked_at', l.locked_at)
                       END
     WHERE NOT lock_in_force(l.expires_at, l.execution_id, l.step_id)
        OR l.priority < EXCLUDED.priority
        OR (l.execution_id = EXCLUDED.execution_id AND l.step_id = EXCLUDED.step_id)
    RETURNING l.resource_type, l.resource_id, l.id, l.locked_by, l.priority, l.execution_id, l.step_id,
              l.expires_at, l.preempted
), recorded AS (
    INSERT INTO lock_events (resource_type, resource_id, event, holder, taken_by)
    SELECT a.resource_type, a.resource_id, 'preempted', a.preempted,
           jsonb_build_object('lock_id', a.id, 'locked_by', a.locked_by, 'priority', a.priority,
                              'execution_id', a.execution_id, 'step_id', a.step_id)
      FROM acquired a
     WHERE a.preempted IS NOT NULL
    RETURNING id
), told AS (
    INSERT INTO execution_signals (execution_id, step_id, from_agent, signal_type, data)
    SELECT e.id, a.preempted->>'step_id', 'coordinator', 'LOCK_PREEMPTED',
           jsonb_build_object('resource_type', a.resource_type, 'resource_id', a.resource_id, 'by', a.locked_by,
                              'by_priority', a.priority, 'by_execution_id', a.execution_id, 'by_step_id', a.step_id)
      FROM acquired a
      JOIN workflow_executions e ON e.id = a.preempted->>'execution_id'
    RETURNING id
)
SELECT id, expires_at, preempted::text AS preempted FROM acquired
