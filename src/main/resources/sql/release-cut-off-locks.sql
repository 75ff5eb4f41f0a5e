-- The request of a step's attempt a cancel cut off, taken back off its agent's queue before an agent took it
-- (QueuedRequests): nobody works on the resource, so the locks kept for that attempt (V49) are free now rather than
-- at its deadline. A lock a holder took again since (cut_off_attempt cleared) stays.
DELETE FROM resource_locks
 WHERE execution_id = :#executionId AND step_id = :#stepId AND cut_off_attempt = CAST(:#replyAttempt AS integer)
