-- running -> retrying; the retry poller dispatches the next attempt when it is due.
UPDATE workflow_step_executions
   SET status = 'retrying', error = :#error, deadline = NULL, updated_at = now(),
       next_attempt_at = now() + (backoff_ms * power(2, attempt - 1)) * interval '1 millisecond'
 WHERE id = :#rowId AND attempt = :#attempt AND status = 'running'
