-- The compensation rows of an execution, with the input and output of the step each one undoes: of its latest
-- iteration that ran (not skipped; a step of a loop over several steps may have a later one that never did, V37).
-- A compensation waiting for its next attempt (pending, next_attempt_at set, V22) reads as 'retrying':
-- already decided, the retry sweep starts it. A held one (held_until set, V47: its step's attempt cut off by a cancel
-- may have done its work) reads so too: it neither starts nor lets the undo of its step's dependencies start.
SELECT e.status AS execution_status, c.id AS row_id, c.step_id,
       CASE WHEN c.next_attempt_at IS NOT NULL OR c.held_until IS NOT NULL THEN 'retrying' ELSE c.status END AS status,
       s.input::text AS step_input, s.output::text AS step_output,
       -- a running one: what its request is sent again with, by a redelivery of the message that started it
       c.dispatched_by, c.attempt, c.deadline, c.agent, c.action, c.input::text AS input
FROM workflow_executions e
JOIN workflow_step_executions c ON c.execution_id = e.id AND c.kind = 'compensation'
JOIN steps_as_they_ran(e.id) s ON s.step_id = c.step_id   -- its latest iteration that ran (V37)
WHERE e.id = :#executionId
-- one order for undos that become ready together: their requests go in it, run after run
ORDER BY c.step_id
