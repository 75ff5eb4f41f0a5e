-- The iteration after the one a reply settled, when that reply's message started it (dispatched_by)
-- and it still runs: a redelivery of the message finds it without the request that the earlier
-- delivery's rollback took away (a broker restart between the database commit and the JMS commit). The next
-- iteration starts at repeatFrom: the loop's own step, or for a loop over several steps its repeat_from.
SELECT s.id AS row_id, s.status, s.attempt, s.max_attempts, s.iteration, s.input::text AS input, s.deadline,
       s.request_context::text AS context, s.dispatched_by
FROM workflow_step_executions s
WHERE s.execution_id = :#executionId AND s.step_id = :#repeatFrom AND s.kind = 'step'
  AND s.iteration = :#iteration + 1 AND s.status = 'running'
  AND s.dispatched_by = CAST(:#causeMessageId AS varchar)
