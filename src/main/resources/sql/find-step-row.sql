-- The step attempt a reply names, with what its result route needs (and when the attempt began,
-- for the step-latency metric); its error says why a step that no longer waits for the reply ended. A failed step's
-- compensation_held: its compensation waits for this attempt's reply (V47).
-- loop_round_start: a row an earlier release started (a coordinator of schema 50, in a rolling upgrade or a roll-back)
-- has none; its loop's round then started where the step's latest earlier row says (the rounds only move forward).
-- Only a retry starts a round (reset-failed-steps.sql), so an execution never retried reads none: a reply of a loop
-- does not read the step's earlier rows.
SELECT s.execution_id, s.step_id, s.iteration,
       COALESCE(s.loop_round_start,
                CASE WHEN s.iteration > 0 AND e.retries > 0 THEN (SELECT max(p.loop_round_start) FROM workflow_step_executions p
                                                 WHERE p.execution_id = s.execution_id AND p.step_id = s.step_id
                                                   AND p.kind = s.kind AND p.iteration < s.iteration) END,
                0) AS loop_round_start, s.kind, s.status, s.attempt, s.max_attempts, s.error,
       s.input::text AS input, s.deadline, e.workflow_id, e.workflow_version, s.request_context::text AS context,
       s.agent, s.action, a.started_at AS attempt_started_at, s.dispatched_by,
       s.progress::text AS progress, e.deadline AS execution_deadline,
       CASE WHEN s.status = 'failed' THEN EXISTS (SELECT 1 FROM workflow_step_executions c
                                                   WHERE c.execution_id = s.execution_id AND c.step_id = s.step_id
                                                     AND c.kind = 'compensation' AND c.held_until IS NOT NULL)
       END AS compensation_held,
       s.output IS NOT NULL AS reported_done   -- a failed step cut off by a cancel: a reply reported it done (V47)
FROM workflow_step_executions s
JOIN workflow_executions e ON e.id = s.execution_id
LEFT JOIN step_attempts a ON a.step_execution_id = s.id AND a.attempt = s.attempt
WHERE s.id = :#rowId
