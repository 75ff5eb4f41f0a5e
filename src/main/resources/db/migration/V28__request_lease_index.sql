-- The retry sweep reads the request leases that ran out (V27) through this index; built CONCURRENTLY (see V13):
-- the table is the largest one, and writes to it must not wait for the build.
CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_step_executions_request_due
    ON workflow_step_executions (request_due_at) WHERE request_due_at IS NOT NULL;
