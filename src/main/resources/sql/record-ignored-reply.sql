-- A reply no attempt in flight waits for. When it answers the attempt a cancel cut off while its step held locks, kept
-- for it since (V49), its agent is done with the resource: they are free now rather than at the attempt's deadline.
-- Only the reply of the row the cancel cut off (failed, the step's latest iteration) frees them: a loop's rows each
-- count their attempts from 1, and a late or duplicate reply of an earlier iteration names the same attempt number.
-- Not while the step's compensation is pending or running: the undo of what that agent reported done takes them over.
-- The rows are locked in the order acquirers take them (LockedStepStart), as the other holders' releases are (V49).
WITH kept AS MATERIALIZED (
    SELECT l.resource_type, l.resource_id
      FROM resource_locks l
     WHERE l.execution_id = :#executionId AND l.step_id = :#stepId AND l.cut_off_attempt = CAST(:#replyAttempt AS integer)
       AND EXISTS (SELECT 1 FROM workflow_step_executions s
                    WHERE s.id = :#rowId AND s.execution_id = l.execution_id AND s.step_id = l.step_id AND s.kind = 'step'
                      AND s.status = 'failed' AND s.attempt = l.cut_off_attempt
                      AND NOT EXISTS (SELECT 1 FROM workflow_step_executions n
                                       WHERE n.execution_id = s.execution_id AND n.step_id = s.step_id AND n.kind = 'step'
                                         AND n.iteration > s.iteration))
       AND NOT EXISTS (SELECT 1 FROM workflow_step_executions c
                        WHERE c.execution_id = l.execution_id AND c.step_id = l.step_id AND c.kind = 'compensation'
                          AND c.status IN ('pending', 'running'))
     ORDER BY l.resource_type COLLATE "C", l.resource_id COLLATE "C"
       FOR UPDATE OF l
), freed AS (
    DELETE FROM resource_locks l USING kept k WHERE l.resource_type = k.resource_type AND l.resource_id = k.resource_id
)
INSERT INTO ignored_replies (correlation_id, execution_id, step_id, reason, body)
VALUES (:#correlationId, :#executionId, :#stepId, :#ignoreReason, :#replyBody)
