-- The iteration after the one a reply settled, of a loop over several steps whose first step (repeatFrom) takes locks:
-- complete-and-iterate-steps.sql created that step's row pending, for its step route to take its locks and start it
-- in a transaction of its own. Still pending, not waiting for its locks or its next attempt: the delivery of the
-- reply that created it died before that start, and its redelivery has the step route start it.
SELECT s.id AS row_id
FROM workflow_step_executions s
WHERE s.execution_id = :#executionId AND s.step_id = :#repeatFrom AND s.kind = 'step'
  AND s.iteration = :#iteration + 1 AND s.status = 'pending' AND s.waiting_since IS NULL AND s.next_attempt_at IS NULL
