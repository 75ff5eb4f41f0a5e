-- Faults of concurrent transactions the SQL reviewer reproduced on PostgreSQL 15 (two sessions, READ COMMITTED):
--
-- 1. The execution timeout sweep's deadlock retry (as the cancel's, V49) started over at once and took the row the
--    other transaction waited for again before it could: the same cycle formed, and the other one, a reply that had
--    its step's row first, was aborted with an ERROR. It waits 50 ms first now.
-- 2. lock_in_force was STABLE: inside acquire-lock.sql's ON CONFLICT DO UPDATE it read the holder's step rows with the
--    acquiring statement's snapshot, from before it waited for the holder's lock row. A holder that renewed its lapsed
--    lock and marked its step running in one transaction, committing while a waiter's acquire waited, lost the lock to
--    that waiter (its step seen pending, its lock seen lapsed by the waiter's now()): two steps held one exclusive
--    resource, with no preemption recorded. VOLATILE, its query sees what committed before it runs.
CREATE OR REPLACE FUNCTION expire_executions(p_swept_at_ms double precision, p_hold_ms bigint, p_limit integer)
    RETURNS TABLE (execution_id varchar, workflow_id varchar, workflow_version integer, error text, status varchar,
                   failures text, in_flight text) AS $$
#variable_conflict use_column
DECLARE
    v_rows jsonb;
    v_due varchar[];
    v_due_before timestamptz := LEAST(now(), to_timestamp(p_swept_at_ms / 1000)) - p_hold_ms * interval '1 millisecond';
BEGIN
    SELECT array_agg(d.id) INTO v_due
      FROM (SELECT e.id FROM workflow_executions e WHERE e.status = 'running' AND e.deadline < v_due_before
             ORDER BY e.deadline LIMIT p_limit) d;
    IF v_due IS NULL THEN
        RETURN;
    END IF;
    -- A deadlock (a transition holds a row this waits for and waits for one this took: a lock renewal's
    -- resource_locks row, a stalled-execution sweep's execution row) lets the other go: the block's locks
    -- and changes are undone, and it starts over. The rows are kept until the block is through.
    LOOP
    BEGIN
    PERFORM lock_unsettled_steps(v_due);
    WITH expired AS (
        UPDATE workflow_executions e
           SET status = status_when_stopped(e.id, 'failed'),
               completed_at = now(),
               -- timed from the start, or from the retry that reopened it and moved its deadline
               error = 'workflow timed out after ' || (EXTRACT(EPOCH FROM (e.deadline - COALESCE(e.retried_at, e.started_at))) * 1000)::bigint || ' ms'
          FROM (SELECT w.id FROM workflow_executions w
                 WHERE w.id = ANY (v_due) AND w.status = 'running' AND w.deadline < v_due_before
                 FOR UPDATE SKIP LOCKED) due
         WHERE e.id = due.id
        RETURNING e.id, e.workflow_id, e.workflow_version, e.error, e.status
    ), settled AS (
        UPDATE workflow_step_executions s
           SET status = CASE WHEN s.status = 'pending' AND s.next_attempt_at IS NULL AND s.error IS NULL THEN 'skipped' ELSE 'failed' END,
               error = expired.error, completed_at = now(), deadline = NULL, next_attempt_at = NULL, updated_at = now(),
               waiting_for = NULL, waiting_since = NULL   -- a lock wait ends with its step
          FROM expired
         WHERE s.execution_id = expired.id AND s.status IN ('pending', 'running')
        RETURNING s.execution_id, s.step_id, s.kind, s.status, s.error
    )
    SELECT jsonb_agg(to_jsonb(r)) INTO v_rows FROM (
    SELECT expired.id AS execution_id, expired.workflow_id, expired.workflow_version, expired.error, expired.status,
           NULL::text AS failures,   -- filled in below, once the updates can be read
           -- the attempts in flight as the statement found them (its snapshot is from before the updates), read per
           -- expired execution: their requests may still be queued
           requests_in_flight(expired.id) AS in_flight
    FROM expired) r;
    v_rows := with_stopped_outcomes(v_rows);   -- a statement of its own: it reads this one's updates
    EXIT;
    EXCEPTION WHEN deadlock_detected THEN
        PERFORM pg_sleep(0.05);   -- lets the transition that waited for a row of this block have it first, then starts over
    END;
    END LOOP;
    RETURN QUERY SELECT * FROM jsonb_to_recordset(COALESCE(v_rows, '[]'::jsonb))
        AS r(execution_id varchar, workflow_id varchar, workflow_version integer, error text, status varchar,
             failures text, in_flight text);
END;
$$ LANGUAGE plpgsql;

ALTER FUNCTION lock_in_force(timestamptz, varchar, varchar) VOLATILE;
