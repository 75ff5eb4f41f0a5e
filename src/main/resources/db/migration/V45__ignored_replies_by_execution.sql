-- GET /api/executions/{id} lists the execution's ignored replies (late, duplicate, for another attempt), newest first:
-- read through an index rather than every ignored reply of the retention period. Built CONCURRENTLY (see V13).
CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_ignored_replies_execution ON ignored_replies (execution_id, received_at);
