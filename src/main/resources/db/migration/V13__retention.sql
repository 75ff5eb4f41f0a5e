-- Retention (coordinator.retention.days, RetentionRoutes): what the sweep looks for, oldest first, without
-- reading whole tables. Built CONCURRENTLY, so that coordinators of the version before keep writing while a
-- large table is indexed during a rolling deployment (Flyway runs a script of such statements outside a
-- transaction).
CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_executions_settled ON workflow_executions (completed_at)
    WHERE status IN ('completed', 'failed', 'cancelled', 'compensated', 'compensation_failed');
CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_agent_events_received ON agent_events (received_at);
CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_agent_messages_created ON agent_messages (created_at);
