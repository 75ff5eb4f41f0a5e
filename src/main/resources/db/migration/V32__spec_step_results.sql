-- Outcome events and workflow_executions.result in the spec's shape (its executeWorkflow and
-- persistExecutionComplete): "results" holds every step's StepResult by step id, {step_id, status,
-- output, error, started_at, completed_at}, and "failures" the failed steps' StepResults (a failed
-- compensation's with "kind": "compensation"). They held each completed step's output by step id, and
-- {step_id, error}: a consumer written for the spec (results.<step>.output, failures[i].status) found
-- nothing. An execution that a cancel or its timeout stopped now has its result too.

-- A step row as the spec's StepResult. STABLE, as jsonb_build_object is (a timestamp's text follows the
-- session's TimeZone): declared so, the planner inlines it into the statements that call it, which run
-- it once per step row (IMMUTABLE over a STABLE body, it would be called as a function, planned anew).
CREATE FUNCTION step_result(p_step_id text, p_status text, p_output jsonb, p_error text,
                            p_started_at timestamptz, p_completed_at timestamptz) RETURNS jsonb AS $$
    SELECT jsonb_build_object('step_id', p_step_id, 'status', p_status, 'output', p_output, 'error', p_error,
                              'started_at', p_started_at, 'completed_at', p_completed_at)
$$ LANGUAGE sql STABLE;

-- Every step's StepResult by step id, each step as it last stood (its latest iteration).
CREATE FUNCTION execution_results(p_execution_id varchar) RETURNS jsonb AS $$
    SELECT COALESCE(jsonb_object_agg(l.step_id, step_result(l.step_id, l.status, l.output, l.error, l.started_at, l.completed_at)),
                    '{}'::jsonb)
      FROM (SELECT DISTINCT ON (s.step_id) s.step_id, s.status, s.output, s.error, s.started_at, s.completed_at
              FROM workflow_step_executions s
             WHERE s.execution_id = p_execution_id AND s.kind = 'step'
             ORDER BY s.step_id, s.iteration DESC) l
$$ LANGUAGE sql STABLE;

-- The failures an outcome event carries (V24), as StepResults: the failed steps, then the failed compensations.
CREATE OR REPLACE FUNCTION outcome_failures(p_execution_id varchar) RETURNS text AS $$
    SELECT COALESCE(jsonb_agg(f.failure ORDER BY f.kind DESC, f.step_id), '[]'::jsonb)::text
      FROM (SELECT s.kind, s.step_id,
                   step_result(s.step_id, s.status, s.output, s.error, s.started_at, s.completed_at)
                   || CASE WHEN s.kind = 'step' THEN '{}'::jsonb ELSE jsonb_build_object('kind', s.kind) END AS failure
              FROM workflow_step_executions s
             WHERE s.execution_id = p_execution_id AND s.status = 'failed') f
$$ LANGUAGE sql STABLE;

-- finish_execution (V9), with the results and failures above; its plan stays generic (V10).
CREATE OR REPLACE FUNCTION finish_execution(p_execution_id varchar, p_partial_success boolean, p_tolerated jsonb)
    RETURNS TABLE (status text, workflow_id text, results text, failures text) AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    WITH latest AS (
        SELECT DISTINCT ON (step_id) step_id, status, output, error, compensation, started_at, completed_at
        FROM workflow_step_executions
        WHERE execution_id = p_execution_id AND kind = 'step'
        ORDER BY step_id, iteration DESC
    ), verdict AS (
        SELECT NOT EXISTS (
                   SELECT 1 FROM latest
                   WHERE status = 'failed'
                     AND NOT (p_partial_success AND step_id IN (SELECT jsonb_array_elements_text(p_tolerated)))
               ) AS success,
               EXISTS (SELECT 1 FROM latest WHERE status = 'completed' AND compensation IS NOT NULL) AS compensable,
               (SELECT jsonb_object_agg(step_id, step_result(step_id, status, output, error, started_at, completed_at))
                  FROM latest) AS results,
               (SELECT jsonb_agg(step_result(step_id, status, output, error, started_at, completed_at) ORDER BY step_id)
                  FROM latest WHERE status = 'failed') AS failures
    )
    UPDATE workflow_executions e
       SET status = CASE WHEN v.success THEN 'completed' WHEN v.compensable THEN 'compensating' ELSE 'failed' END,
           result = COALESCE(v.results, '{}'::jsonb),
           error = CASE WHEN v.success THEN NULL
                        ELSE 'failed steps: ' || (SELECT string_agg(f->>'step_id', ', ') FROM jsonb_array_elements(v.failures) f) END,
           completed_at = now()
      FROM verdict v
     WHERE e.id = p_execution_id AND e.status = 'running'
       AND NOT EXISTS (SELECT 1 FROM workflow_step_executions s
                       WHERE s.execution_id = e.id AND s.status IN ('pending', 'running', 'retrying'))
    RETURNING e.status::text, e.workflow_id::text, COALESCE(v.results, '{}'::jsonb)::text,
              COALESCE(v.failures, '[]'::jsonb)::text;
END;
$$ LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan;

-- The rows of a cancel or an execution timeout, each with its execution's failures as every path lists them,
-- and the execution's result set (every step's StepResult). Called after the statement that stopped them,
-- its statements read that one's updates.
CREATE FUNCTION with_stopped_outcomes(p_rows jsonb) RETURNS jsonb AS $$
BEGIN
    UPDATE workflow_executions e SET result = execution_results(e.id)
     WHERE e.id IN (SELECT r ->> 'execution_id' FROM jsonb_array_elements(COALESCE(p_rows, '[]'::jsonb)) r);
    RETURN (SELECT jsonb_agg(r || jsonb_build_object('failures', outcome_failures(r ->> 'execution_id')))
              FROM jsonb_array_elements(COALESCE(p_rows, '[]'::jsonb)) r);
END;
$$ LANGUAGE plpgsql;

-- cancel-execution.sql and expire-executions.sql (V23): their failures as outcome_failures lists them, and
-- the execution's result set.
CREATE OR REPLACE FUNCTION cancel_execution(p_execution_id varchar, p_reason text)
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
           NULL::text AS failures,   -- filled in below, once the updates can be read
           -- read with the statement's snapshot, from before its updates (as in expire-executions.sql)
           requests_in_flight(cancelled.id) AS in_flight
    FROM cancelled) r;
    v_rows := with_stopped_outcomes(v_rows);   -- a statement of its own: it reads this one's updates
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


-- expire-executions.sql (V23), as cancel_execution above.
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
        -- starts over (see above)
    END;
    END LOOP;
    RETURN QUERY SELECT * FROM jsonb_to_recordset(COALESCE(v_rows, '[]'::jsonb))
        AS r(execution_id varchar, workflow_id varchar, workflow_version integer, error text, status varchar,
             failures text, in_flight text);
END;
$$ LANGUAGE plpgsql;

-- The executions that ended before this migration: their result in the same shape, so that an outcome
-- sent again from it (find-settled-execution.sql, find-unsent-outcomes.sql) carries it too.
UPDATE workflow_executions e SET result = execution_results(e.id) WHERE e.status <> 'running';
