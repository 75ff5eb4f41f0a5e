-- A heartbeat ({"status": "running"} from the agent working on the attempt): the attempt's deadline
-- moves to the step's timeout from now, so config.timeout_ms bounds the time between signs of life,
-- not the whole attempt. Only the attempt in flight moves; the execution's own deadline stays.
UPDATE workflow_step_executions
   SET deadline = now() + timeout_ms * interval '1 millisecond', updated_at = now()
 WHERE id = :#rowId AND attempt = :#replyAttempt AND status = 'running'
RETURNING execution_id, step_id, deadline
