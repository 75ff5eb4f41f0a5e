-- Steps waiting for a lock whose wait has not yet exceeded the step's timeout: the lock sweep sends
-- each through its step route again, which tries the locks once more. SKIP LOCKED: a row another
-- instance is moving right now is left to it. Those tried longest ago first (each try rewrites the
-- waiting note, and updated_at with it): by the start of their wait, the oldest sweepLimit waiters of a
-- busy resource were tried again and again, and a step behind them waiting for a free one never was.
SELECT s.execution_id, s.step_id, e.workflow_id, e.workflow_version
FROM workflow_step_executions s
JOIN workflow_executions e ON e.id = s.execution_id AND e.status = 'running'
WHERE s.status = 'pending' AND s.waiting_for IS NOT NULL
  AND s.waiting_since + s.timeout_ms * interval '1 millisecond' >= now()
ORDER BY s.updated_at
LIMIT CAST(:#sweepLimit AS integer)
FOR UPDATE OF s SKIP LOCKED
