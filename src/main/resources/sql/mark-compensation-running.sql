-- pending -> running for a compensation, only while its execution is compensating. As a step's start, it
-- records the message that started it (dispatched_by), whose redelivery sends its request again
-- (load-compensations.sql), or a lease on its request (V27) when no message did.
UPDATE workflow_step_executions s
   SET status = 'running', attempt = 1, input = CAST(:#input AS jsonb), started_at = now(),
       deadline = now() + s.timeout_ms * interval '1 millisecond', updated_at = now(),
       handled_by = current_setting('application_name'), dispatched_by = :#causeMessageId,
       -- started by a sweep or an HTTP call, with no message to redeliver: its request's lease (V27), from when the row is
       -- taken (clock_timestamp), not from the statement's start: one that waited for the row's lock gave a lease that ran
       -- out as it committed, and another coordinator's retry sweep sent the undo again (a chaos run with two coordinators)
       request_due_at = CASE WHEN CAST(:#causeMessageId AS varchar) IS NULL
                             THEN clock_timestamp() + GREATEST(1000, LEAST(30000, s.timeout_ms / 3)) * interval '1 millisecond' END
 WHERE s.id = :#rowId AND s.status = 'pending' AND s.next_attempt_at IS NULL AND s.kind = 'compensation'
   AND EXISTS (SELECT 1 FROM workflow_executions e WHERE e.id = s.execution_id AND e.status = 'compensating')
RETURNING s.attempt, s.iteration, s.deadline, s.agent, s.action
