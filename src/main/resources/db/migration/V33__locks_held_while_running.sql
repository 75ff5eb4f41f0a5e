-- A lock is in force while it has not expired, and for as long as its holder's step runs. It lapsed at
-- expires_at whatever its holder did: with the default ttl_ms (the attempt's timeout) that is the
-- attempt's deadline, which the attempt-timeout sweep passes only after the replies waiting in the broker
-- are read (ReplyBacklog). A waiter took the lock at the deadline while the holder's heartbeat or reply
-- still waited there; the heartbeat then moved the attempt's deadline on, and two agents worked on one
-- exclusive resource, both completing. The expiry still frees a lock whose holder does not run (a retry's
-- backoff; a holder that settled without releasing it), and a holder of higher priority still takes it.
-- PL/pgSQL: its statement's plan is kept for the session (an SQL function with a subquery is not inlined,
-- and would be planned again on every call: on every conflicting acquisition and every blocked waiter's try).
CREATE FUNCTION lock_in_force(p_expires_at timestamptz, p_execution_id varchar, p_step_id varchar) RETURNS boolean AS $$
BEGIN
    RETURN p_expires_at >= now()
        OR EXISTS (SELECT 1 FROM workflow_step_executions s
                    WHERE s.execution_id = p_execution_id AND s.step_id = p_step_id AND s.kind = 'step'
                      AND s.status = 'running');
END;
$$ LANGUAGE plpgsql STABLE;
