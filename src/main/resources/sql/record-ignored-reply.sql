-- A reply no attempt in flight waits for. When it answers the attempt a cancel cut off while its step held locks, kept
-- for it since (V49), its agent is done with the resource: they are free now rather than at the attempt's deadline.
WITH freed AS (
    DELETE FROM resource_locks
     WHERE execution_id = :#executionId AND step_id = :#stepId AND cut_off_attempt = CAST(:#replyAttempt AS integer)
)
INSERT INTO ignored_replies (correlation_id, execution_id, step_id, reason, body)
VALUES (:#correlationId, :#executionId, :#stepId, :#ignoreReason, :#replyBody)
