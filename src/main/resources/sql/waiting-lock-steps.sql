-- Steps waiting for a lock: the lock sweep sends each through its step route again, which tries the
-- locks once more. Past the step's timeout too, until expire-lock-waits.sql fails it: that sweep holds
-- while replies are queued (the holder's releasing reply may be among them), and a waiter left alone
-- meanwhile failed although the lock had come free. SKIP LOCKED: a row another
-- instance is moving right now is left to it. Those tried longest ago first (each try rewrites the
-- waiting note, and updated_at with it): by the start of their wait, the oldest sweepLimit waiters of a
-- busy resource were tried again and again, and a step behind them waiting for a free one never was. The
-- sweep then tries them highest priority first (LockRoutes), by their agent.
SELECT s.execution_id, s.step_id, s.kind, s.agent AS waiting_agent, e.workflow_id, e.workflow_version
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
