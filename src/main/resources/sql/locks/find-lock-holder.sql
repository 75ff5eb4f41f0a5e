-- JDBC: the current holder of one resource (ResourceLockStore, to say what a blocked step waits for).
SELECT locked_by, priority, execution_id, step_id, expires_at
FROM resource_locks
WHERE resource_type = ? AND resource_id = ? AND lock_in_force(expires_at, execution_id, step_id)
