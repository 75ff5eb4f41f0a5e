-- Steps waiting for a lock: the lock sweep sends each through its step route again, which tries the
-- locks once more. Past the step's timeout too, until expire-lock-waits.sql fails it: that sweep holds
-- while replies are queued (the holder's releasing reply may be among them), and a waiter left alone
-- meanwhile failed although the lock had come free. SKIP LOCKED: a row another
-- instance is moving right now is left to it. Those tried longest ago first (each try rewrites the
-- waiting note, and updated_at with it): by the start of their wait, the oldest sweepLimit waiters of a
-- busy resource were tried again and again, and a step behind them waiting for a free one never was. The
-- sweep then tries them highest priority first (LockRoutes), by their agent.
-- blocked_by: for a step whose last try noted a lock wait (waiting_for 'lock …', its locks in waiting_locks), the holders in
-- force of its locks that its try cannot take them from (acquire-lock.sql: of its priority or higher, not itself), as
-- [{resource_type, resource_id, locked_by, priority, execution_id, step_id, expires_at}, …]; null when none. Its try would
-- fail: LockRoutes notes the wait without one (a try costs a pass through its route and five statements). Not for a
-- compensation (its execution's compensate route does more than try), a step requeued to take its locks again ("its locks
-- again": its next iteration may ask for others) or a note of an earlier release (no waiting_locks).
-- lockPriorities: the agents' configured priorities ({"agent": priority, ...}, unlisted ones 0), as find-lock-waiters.sql.
SELECT s.execution_id, s.step_id, s.kind, s.agent AS waiting_agent, e.workflow_id, e.workflow_version, s.id AS waiter_row_id,
       (SELECT CAST(jsonb_agg(jsonb_build_object('resource_type', l.resource_type, 'resource_id', l.resource_id,
                                                 'locked_by', l.locked_by, 'priority', l.priority, 'execution_id', l.execution_id,
                                                 'step_id', l.step_id, 'expires_at', l.expires_at)) AS text)
          FROM jsonb_array_elements(s.waiting_locks) w,
               -- each lock by its key (OFFSET 0: not a hash of every lock, with lock_in_force asked of each, per waiter)
               LATERAL (SELECT * FROM resource_locks k WHERE k.resource_type = w->>0 AND k.resource_id = w->>1 OFFSET 0) l
         WHERE s.kind = 'step' AND starts_with(s.waiting_for, 'lock ')
           AND l.priority >= COALESCE(CAST(CAST(:#lockPriorities AS jsonb) ->> s.agent AS integer), 0)
           AND (l.execution_id, l.step_id) IS DISTINCT FROM (s.execution_id, s.step_id)
           AND lock_in_force(l.expires_at, l.execution_id, l.step_id)) AS blocked_by
FROM workflow_step_executions s
-- a compensation waits for the locks of the step it undoes while its execution compensates (LockRoutes sends it
-- through the execution's compensate route)
JOIN workflow_executions e ON e.id = s.execution_id
                          AND (e.status = 'running' OR (e.status = 'compensating' AND s.kind = 'compensation'))
-- not one waiting for its next attempt: a compensation an earlier release started, during a rolling upgrade, without
-- its locks kept its waiting note (V38)
WHERE s.status = 'pending' AND s.waiting_for IS NOT NULL AND s.next_attempt_at IS NULL
ORDER BY s.updated_at
LIMIT CAST(:#sweepLimit AS integer)
FOR UPDATE OF s SKIP LOCKED
