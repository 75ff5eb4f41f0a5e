UPDATE workflow_step_executions
   SET status = 'completed', output = CAST(:#output AS jsonb), error = NULL, completed_at = now(),
       deadline = NULL, updated_at = now()
 WHERE id = :#rowId AND attempt = :#attempt AND status = 'running'
