-- GET /api/executions lists the newest executions first (list_executions, V15). Without an index on created_at,
-- PostgreSQL read the whole table and sorted it on every call (185 ms at 300,000 executions, in parallel workers);
-- with it, a listing reads the rows it returns. Built CONCURRENTLY, as V13.
CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_executions_created ON workflow_executions (created_at);
