-- The replies recorded and ignored for one execution (late, duplicate, for an attempt no longer in flight), newest
-- first, for GET /api/executions/{id}: one more than it shows, to tell whether there are more.
SELECT step_id, correlation_id, reason, received_at
FROM ignored_replies
WHERE execution_id = :#executionId
ORDER BY received_at DESC, id DESC
LIMIT 21
