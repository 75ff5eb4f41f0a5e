-- The request of an attempt that a sweep or an HTTP call started has left: no lease to send it again (V27), and no
-- refusal of an earlier send of it to tell (request-unsent.sql).
WITH sent AS (
    UPDATE workflow_step_executions SET request_due_at = NULL
     WHERE id = :#rowId AND attempt = CAST(:#attempt AS integer) AND request_due_at IS NOT NULL
    RETURNING id)
UPDATE step_attempts a SET error = NULL
  FROM sent
 WHERE a.step_execution_id = sent.id AND a.attempt = CAST(:#attempt AS integer) AND a.status = 'running' AND a.error IS NOT NULL
