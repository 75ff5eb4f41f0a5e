-- A cancel or an execution timeout decides on the steps as the transitions in flight leave them. Its
-- statement used to read them with the snapshot it began with: a completion that committed after that
-- (the cancel waited for the step's row lock, then found the step no longer running and left it alone)
-- was never compensated, and the next iteration a loop's completion inserted was never seen at all, so
-- it ran on under a cancelled execution. The statement now runs once every unsettled step of the
-- execution is locked (each transition changes such a row first, and every insert of a step row comes
-- from a transition of one), in a function, whose every statement reads a fresh snapshot.

-- When a retry (reset-failed-steps.sql) reopened the execution: its timeout runs from then.
ALTER TABLE workflow_executions ADD COLUMN retried_at timestamptz;

-- Locks the pending and running rows of the executions, waiting for the transitions that hold them.
-- A pass waits for a transition, the next one (a fresh snapshot) sees what it inserted: the set is
-- complete when two passes agree (at least two run). The callers retry on a deadlock.
CREATE FUNCTION lock_unsettled_steps(p_execution_ids varchar[]) RETURNS void AS $$
DECLARE
    v_before varchar[] := '{}';
    v_locked varchar[];
BEGIN
    LOOP
        SELECT array_agg(l.id ORDER BY l.id) INTO v_locked
          FROM (SELECT s.id FROM workflow_step_executions s
                 WHERE s.execution_id = ANY (p_execution_ids) AND s.status IN ('pending', 'running')
                 ORDER BY s.id FOR NO KEY UPDATE) l;
        EXIT WHEN v_locked IS NOT DISTINCT FROM v_before;
        v_before := v_locked;
    END LOOP;
END;
$$ LANGUAGE plpgsql;

-- The status of an execution stopped by a cancel or its timeout: compensating when a step with a
-- compensation completed, as it last stood (its latest iteration, when that one completed), as
-- begin_compensation (V2) creates the compensations and finish_execution (V9) decides; else p_otherwise.
CREATE FUNCTION status_when_stopped(p_execution_id varchar, p_otherwise varchar) RETURNS varchar AS $$
    SELECT CASE WHEN EXISTS (SELECT 1 FROM (SELECT DISTINCT ON (s.step_id) s.status, s.compensation
                                              FROM workflow_step_executions s
                                             WHERE s.execution_id = p_execution_id AND s.kind = 'step'
                                             ORDER BY s.step_id, s.iteration DESC) latest
                              WHERE latest.status = 'completed' AND latest.compensation IS NOT NULL)
                THEN 'compensating' ELSE p_otherwise END
$$ LANGUAGE sql STABLE;

-- The attempts of an execution in flight, [{step_id, request: <row>:<attempt>}], whose requests may still
-- wait on their agents' queues. STABLE: called by a statement that stops the execution, it reads with that
-- statement's snapshot, from before its updates.
CREATE FUNCTION requests_in_flight(p_execution_id varchar) RETURNS text AS $$
    SELECT COALESCE(jsonb_agg(jsonb_build_object('step_id', s.step_id, 'request', s.id || ':' || s.attempt)), '[]'::jsonb)::text
      FROM workflow_step_executions s
     WHERE s.execution_id = p_execution_id AND s.kind = 'step' AND s.status = 'running'
$$ LANGUAGE sql STABLE;

-- cancel-execution.sql: cancels a running execution (see that file).
CREATE FUNCTION cancel_execution(p_execution_id varchar, p_reason text)
    RETURNS TABLE (execution_id varchar, workflow_id varchar, workflow_version integer, status varchar,
                   settled_steps bigint, failures text, in_flight text) AS $$
#variable_conflict use_column
DECLARE
    v_rows jsonb;
BEGIN
    -- A deadlock (a transition holds a row this waits for and waits for one this took: a lock renewal's
    -- resource_locks row, a stalled-execution sweep's execution row) lets the other go: the block's locks
    -- and changes are undone, and it starts over. The rows are kept until the block is through.
    LOOP
    BEGIN
    PERFORM lock_unsettled_steps(ARRAY[p_execution_id]);
    WITH cancelled AS (
        UPDATE workflow_executions e
           SET status = status_when_stopped(e.id, 'cancelled'),
               completed_at = now(), error = p_reason
         WHERE e.id = p_execution_id AND e.status = 'running'
        RETURNING e.id, e.workflow_id, e.workflow_version, e.status
    ), settled AS (
        UPDATE workflow_step_executions s
           -- a step that had started (running, or waiting for its next attempt or for its locks again, its failed
           -- attempt's error still on the row) fails with the reason; one that never ran is skipped
           SET status = CASE WHEN s.status = 'pending' AND s.next_attempt_at IS NULL AND s.error IS NULL THEN 'skipped' ELSE 'failed' END,
               error = p_reason, completed_at = now(), deadline = NULL, next_attempt_at = NULL, updated_at = now(),
               waiting_for = NULL, waiting_since = NULL   -- a lock wait ends with its step
          FROM cancelled
         WHERE s.execution_id = cancelled.id AND s.status IN ('pending', 'running')
        RETURNING s.step_id, s.kind, s.status, s.error
    )
    SELECT jsonb_agg(to_jsonb(r)) INTO v_rows FROM (
    SELECT cancelled.id AS execution_id, cancelled.workflow_id, cancelled.workflow_version, cancelled.status,
           (SELECT count(*) FROM settled) AS settled_steps,
           -- what onFailure carries, as find-unsent-outcomes.sql computes it: the steps that failed before (this
           -- statement's snapshot) and those the cancel failed
           COALESCE((SELECT jsonb_agg(jsonb_build_object('step_id', f.step_id, 'error', f.error)) FROM (
                        SELECT s.step_id, s.error FROM workflow_step_executions s
                         WHERE s.execution_id = cancelled.id AND s.kind = 'step' AND s.status = 'failed'
                        UNION ALL
                        SELECT step_id, error FROM settled WHERE kind = 'step' AND status = 'failed') f), '[]'::jsonb)::text AS failures,
           -- read with the statement's snapshot, from before its updates (as in expire-executions.sql)
           requests_in_flight(cancelled.id) AS in_flight
    FROM cancelled) r;
    EXIT;
    EXCEPTION WHEN deadlock_detected THEN
        -- starts over (see above)
    END;
    END LOOP;
    RETURN QUERY SELECT * FROM jsonb_to_recordset(COALESCE(v_rows, '[]'::jsonb))
        AS r(execution_id varchar, workflow_id varchar, workflow_version integer, status varchar,
             settled_steps bigint, failures text, in_flight text);
END;
$$ LANGUAGE plpgsql;

-- expire-executions.sql: executions past their whole-execution timeout end failed (see that file). The
-- due executions are chosen first, without a lock: their rows are locked after their steps', in the
-- order a completion that ends an execution takes them (its step, then the execution).
CREATE FUNCTION expire_executions(p_swept_at_ms double precision, p_hold_ms bigint, p_limit integer)
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
           -- what onFailure carries, as find-unsent-outcomes.sql computes it: the steps that failed before (this
           -- statement's snapshot) and those the timeout failed (not those it skipped)
           COALESCE((SELECT jsonb_agg(jsonb_build_object('step_id', f.step_id, 'error', f.error)) FROM (
                        SELECT s.step_id, s.error FROM workflow_step_executions s
                         WHERE s.execution_id = expired.id AND s.kind = 'step' AND s.status = 'failed'
                        UNION ALL
                        SELECT settled.step_id, settled.error FROM settled
                         WHERE settled.execution_id = expired.id AND settled.kind = 'step' AND settled.status = 'failed') f), '[]'::jsonb)::text AS failures,
           -- the attempts in flight as the statement found them (its snapshot is from before the updates), read per
           -- expired execution: their requests may still be queued
           requests_in_flight(expired.id) AS in_flight
    FROM expired) r;
    EXIT;
    EXCEPTION WHEN deadlock_detected THEN
        -- starts over (see above)
    END;
    END LOOP;
    RETURN QUERY SELECT * FROM jsonb_to_recordset(COALESCE(v_rows, '[]'::jsonb))
        AS r(execution_id varchar, workflow_id varchar, workflow_version integer, error text, status varchar,
             failures text, in_flight text);
END;
$$ LANGUAGE plpgsql;
