-- Steps waiting for a lock whose wait has not yet exceeded the step's timeout: the lock sweep sends
-- each through its step route again, which tries the locks once more. SKIP LOCKED: a row another
-- instance is moving right now is left to it.
SELECT s.execution_id, s.step_id, e.workflow_id, e.workflow_version
FROM workflow_step_executions s
JOIN workflow_executions e ON e.id = s.execution_id AND e.status = 'running'
WHERE s.status = 'pending' AND s.waiting_for IS NOT NULL
  AND s.waiting_since + s.timeout_ms * interval '1 millisecond' >= now()
ORDER BY s.waiting_since
LIMIT CAST(:#sweepLimit AS integer)
FOR UPDATE OF s SKIP LOCKED
