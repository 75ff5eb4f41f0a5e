-- The request of an attempt that a sweep or an HTTP call started has left: no lease to send it again (V27).
UPDATE workflow_step_executions SET request_due_at = NULL
 WHERE id = :#rowId AND attempt = CAST(:#attempt AS integer) AND request_due_at IS NOT NULL
