-- The request of a step's attempt a cancel cut off, taken back off its agent's queue before an agent took it
-- (QueuedRequests): nobody works on the resource, so the locks kept for that attempt (V49) are free now rather than
-- at its deadline. A lock a holder took again since (cut_off_attempt cleared) stays. Locked in the acquirers' order.
WITH kept AS MATERIALIZED (
    SELECT l.resource_type, l.resource_id
      FROM resource_locks l
     WHERE l.execution_id = :#executionId AND l.step_id = :#stepId AND l.cut_off_attempt = CAST(:#replyAttempt AS integer)
     ORDER BY l.resource_type COLLATE "C", l.resource_id COLLATE "C"
       FOR UPDATE OF l
)
DELETE FROM resource_locks l USING kept k WHERE l.resource_type = k.resource_type AND l.resource_id = k.resource_id
