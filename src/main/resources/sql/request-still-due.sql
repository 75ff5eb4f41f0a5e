-- Just before a request of the retry sweep leaves: its attempt still runs, its request is still not known to have
-- left, and it has time left. A sweep's batch is sent one request at a time, and on a loaded machine its last ones
-- left up to 20 s after the statement read them (a chaos run with two coordinators): after their step had completed,
-- after another coordinator had sent them, or with no time left. Such a request is not sent; one that goes has its
-- lease from now, not from the statement's start. Nor is one whose lease another coordinator's sweep took over meanwhile
-- (handled_by, start-due-retries.sql): both sent it (the SQL reviewer's two sessions).
UPDATE workflow_step_executions
   SET request_due_at = clock_timestamp() + GREATEST(1000, LEAST(30000, timeout_ms / 3)) * interval '1 millisecond'
 WHERE id = :#rowId AND attempt = CAST(:#attempt AS integer) AND status = 'running' AND request_due_at IS NOT NULL
   AND (deadline IS NULL OR deadline > clock_timestamp())
   AND handled_by = current_setting('application_name')
