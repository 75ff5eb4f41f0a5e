-- Just before a request of the retry sweep leaves: its attempt still runs, its request is still not known to have
-- left, and it has time left. A sweep's batch is sent one request at a time, and on a loaded machine its last ones
-- left up to 20 s after the statement read them (a chaos run with two coordinators): after their step had completed,
-- after another coordinator had sent them, or with no time left. Such a request is not sent; one that goes has its
-- lease from now, not from the statement's start. Nor is one whose lease another coordinator's sweep took over meanwhile
-- (handled_by, start-due-retries.sql): both sent it (the SQL reviewer's two sessions).
-- An attempt's first send (not resent) also has its deadline from now: its time ran from the statement that started
-- it, and a batch slower than the attempt's timeout (about 1 s a request at a load average of 60, a chaos run) had its
-- later attempts time out with their requests never sent, a step failing on attempts its agent never saw. The
-- deadline stays within the execution's (capped_deadline); a request sent again keeps its attempt's deadline.
-- The attempt's record (step_attempts, written by the start's trigger with the batch statement's start) starts at that
-- first send too: its duration counted the batch before it (the send's time, taken once, is the deadline's start).
-- So does a step's or an undo's first send that a redelivery made due (its earlier delivery rolled back with the
-- request, which never left: request-due.sql), whatever deadline the attempt's start gave it.
WITH sending AS MATERIALIZED (SELECT clock_timestamp() AS at),
due AS (
UPDATE workflow_step_executions s
   SET request_due_at = sending.at + GREATEST(1000, LEAST(30000, s.timeout_ms / 3)) * interval '1 millisecond',
       deadline = CASE WHEN CAST(:#resent AS boolean) THEN s.deadline
                       ELSE GREATEST(s.deadline, capped_deadline(s.execution_id, s.kind, sending.at + s.timeout_ms * interval '1 millisecond')) END,
       -- a first send of a request a redelivery found never sent (request-due.sql): tried once, later sends keep
       -- its deadline, and no later pass of that message makes it due again
       dispatched_by = CASE WHEN CAST(:#resent AS boolean) THEN s.dispatched_by END
  FROM sending
 WHERE s.id = :#rowId AND s.attempt = CAST(:#attempt AS integer) AND s.status = 'running' AND s.request_due_at IS NOT NULL
   AND COALESCE(CASE WHEN CAST(:#resent AS boolean) THEN s.deadline
                     ELSE GREATEST(s.deadline, capped_deadline(s.execution_id, s.kind, sending.at + s.timeout_ms * interval '1 millisecond')) END,
                'infinity') > sending.at
   AND s.handled_by = current_setting('application_name')
RETURNING s.id, s.attempt, s.deadline, sending.at
), started AS (
    UPDATE step_attempts a SET started_at = due.at
      FROM due
     WHERE NOT CAST(:#resent AS boolean) AND a.step_execution_id = due.id AND a.attempt = due.attempt
)
SELECT deadline FROM due
