-- Retention of the records kept beside executions (delete-expired-records.sql), as V13 did for executions,
-- events and messages: the sweep reads ignored replies and lock events by their time, oldest first, through
-- an index, instead of every row of the retention period on each pass. Built CONCURRENTLY (see V13).
CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_ignored_replies_received ON ignored_replies (received_at);
CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_lock_events_created ON lock_events (created_at);
