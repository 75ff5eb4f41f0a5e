-- pending -> running for a compensation, only while its execution is compensating. Even a reply's
-- redelivery would not send its request again (the row runs already when it comes back): the request
-- carries a lease (V27) that request-sent.sql clears.
UPDATE workflow_step_executions s
   SET status = 'running', attempt = 1, input = CAST(:#input AS jsonb), started_at = now(),
       deadline = now() + s.timeout_ms * interval '1 millisecond', updated_at = now(),
       handled_by = current_setting('application_name'),
       request_due_at = now() + interval '30 seconds'   -- its request's lease (V27), whatever started it
 WHERE s.id = :#rowId AND s.status = 'pending' AND s.next_attempt_at IS NULL AND s.kind = 'compensation'
   AND EXISTS (SELECT 1 FROM workflow_executions e WHERE e.id = s.execution_id AND e.status = 'compensating')
RETURNING s.attempt, s.iteration, s.deadline, s.agent, s.action
