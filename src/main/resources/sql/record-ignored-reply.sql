INSERT INTO ignored_replies (correlation_id, execution_id, step_id, reason, body)
VALUES (:#correlationId, :#executionId, :#stepId, :#ignoreReason, :#replyBody)
