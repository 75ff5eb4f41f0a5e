-- One step of an execution for a reply posted over HTTP: its latest row (a loop's latest iteration) and
-- that row's attempt and status. No row: no such execution; a row without row_id: no such step. The
-- workflow, its version and the attempts make the reply's correlation id the one its agent's request had.
-- Its compensation's row too (compensation_*, null when it has none): a step that completed and is being
-- undone takes the reply for its compensation's attempt in flight (a person doing the undo).
SELECT e.id AS execution_id, e.workflow_id, e.workflow_version, s.id AS row_id, s.status, s.attempt, s.max_attempts, s.iteration,
       c.id AS compensation_row_id, c.status AS compensation_status, c.attempt AS compensation_attempt,
       c.next_attempt_at IS NOT NULL AS compensation_retrying,
       c.held_until IS NOT NULL AS compensation_held   -- held for the reply of the step's attempt a cancel cut off (V47)
FROM workflow_executions e
LEFT JOIN LATERAL (SELECT id, status, attempt, max_attempts, iteration FROM workflow_step_executions
                    WHERE execution_id = e.id AND step_id = :#stepId AND kind = 'step'
                    ORDER BY iteration DESC LIMIT 1) s ON true
LEFT JOIN LATERAL (SELECT id, status, attempt, next_attempt_at, held_until FROM workflow_step_executions
                    WHERE execution_id = e.id AND step_id = :#stepId AND kind = 'compensation' LIMIT 1) c ON true
WHERE e.id = :#executionId
