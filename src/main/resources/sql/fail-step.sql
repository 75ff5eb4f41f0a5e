UPDATE workflow_step_executions
   SET status = 'failed', error = :#error, completed_at = now(), deadline = NULL, updated_at = now()
 WHERE id = :#rowId AND attempt = :#attempt AND status = 'running'
