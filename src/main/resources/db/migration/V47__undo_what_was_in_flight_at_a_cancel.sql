-- A step whose attempt was in flight when its execution was cancelled may have done its work: its agent had the
-- request, and a cancel cannot take back what an agent already holds. Before, such a step got no compensation (its
-- row failed with the cancel's reason), and a reply reporting it done was recorded and ignored with a WARN: the
-- execution ended cancelled or compensated with that agent's work in place. Now its compensation is held
-- (held_until: the attempt's deadline) until the coordinator learns whether the work stands: the attempt's reply
-- (done: its output is kept on the step row, which V43 reads as work that stands, and the compensation undoes it;
-- an error: nothing to undo), its request taken back off the agent's queue before an agent took it (nothing to
-- undo), or the deadline passing without a reply (nothing known done: nothing to undo). A held compensation holds
-- back the undo of the steps its step depended on, as one that runs does (the saga unwinds in reverse order).
-- A compensation with nothing to undo ends 'skipped'; an execution whose compensations were all skipped ends
-- 'cancelled', as it would have before (settle-compensation.sql). The execution's timeout holds nothing: an
-- attempt's deadline is no later than its execution's (V46), so it has passed when the execution times out.
ALTER TABLE workflow_step_executions ADD COLUMN held_until timestamptz;
COMMENT ON COLUMN workflow_step_executions.held_until IS
    'a compensation held until its step''s attempt cut off by a cancel replies, or this time passes (V47)';
CREATE INDEX idx_compensations_held ON workflow_step_executions (held_until) WHERE held_until IS NOT NULL;

-- The attempts in flight of a running execution whose steps declare a compensation, with their deadlines: what a
-- cancel holds compensations for. Read before the cancel settles the rows, as requests_in_flight is.
CREATE FUNCTION attempts_to_hold(p_execution_id varchar) RETURNS jsonb AS $$
    SELECT jsonb_agg(jsonb_build_object('row_id', s.id, 'step_id', s.step_id, 'held_until', s.deadline,
                                        'request', s.id || ':' || s.attempt))
      FROM workflow_step_executions s
     WHERE s.execution_id = p_execution_id AND s.kind = 'step' AND s.status = 'running'
       AND s.compensation IS NOT NULL AND s.deadline > now()
$$ LANGUAGE sql STABLE;

-- As V32's, and: an execution with an attempt to hold for compensates (its compensation waits, held); the held
-- compensations are written once the statement that stopped the execution has (its trigger, begin_compensation,
-- writes those of the steps that completed first: a held one of a loop's step whose earlier iteration completed is
-- that row, now held). in_flight names the held attempts ("held": true), whose requests are withdrawn one by one:
-- one taken back releases its compensation at once (QueuedRequests).
CREATE OR REPLACE FUNCTION cancel_execution(p_execution_id varchar, p_reason text)
    RETURNS TABLE (execution_id varchar, workflow_id varchar, workflow_version integer, status varchar,
                   settled_steps bigint, failures text, in_flight text) AS $$
#variable_conflict use_column
DECLARE
    v_rows jsonb;
    v_held jsonb;
BEGIN
    -- A deadlock (a transition holds a row this waits for and waits for one this took: a lock renewal's
    -- resource_locks row, a stalled-execution sweep's execution row) lets the other go: the block's locks
    -- and changes are undone, and it starts over. The rows are kept until the block is through.
    LOOP
    BEGIN
    PERFORM lock_unsettled_steps(ARRAY[p_execution_id]);
    v_held := attempts_to_hold(p_execution_id);   -- the rows are locked: no transition moves them meanwhile
    WITH cancelled AS (
        UPDATE workflow_executions e
           SET status = CASE WHEN v_held IS NOT NULL THEN 'compensating' ELSE status_when_stopped(e.id, 'cancelled') END,
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
           -- read with the statement's snapshot, from before its updates (as in expire-executions.sql); a held
           -- attempt says so
           (SELECT COALESCE(jsonb_agg(f || CASE WHEN EXISTS (SELECT 1 FROM jsonb_array_elements(COALESCE(v_held, '[]'::jsonb)) h
                                                              WHERE h ->> 'request' = f ->> 'request')
                                                THEN '{"held": true}'::jsonb ELSE '{}'::jsonb END), '[]'::jsonb)::text
              FROM jsonb_array_elements(requests_in_flight(cancelled.id)::jsonb) f) AS in_flight
    FROM cancelled) r;
    IF v_rows IS NOT NULL AND v_held IS NOT NULL THEN
        INSERT INTO workflow_step_executions AS c (id, execution_id, step_id, iteration, kind, agent, action,
                                                   max_attempts, timeout_ms, backoff_ms, held_until)
        SELECT gen_random_uuid()::text, s.execution_id, s.step_id, 0, 'compensation',
               s.compensation->>'agent', s.compensation->>'action', (s.compensation->>'max_attempts')::int,
               (s.compensation->>'timeout_ms')::bigint, (s.compensation->>'backoff_ms')::bigint,
               (h ->> 'held_until')::timestamptz
          FROM jsonb_array_elements(v_held) h
          JOIN workflow_step_executions s ON s.id = h ->> 'row_id'
        ON CONFLICT (execution_id, step_id, iteration, kind) DO UPDATE SET held_until = EXCLUDED.held_until;
    END IF;
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

-- Ends a held compensation (release-held-compensation.sql, release-expired-holds.sql): it runs when its step's work
-- stands (p_done: its agent reported the attempt done; or an earlier iteration of a loop's step completed, which is
-- then what it undoes), else it is skipped. Returns the compensation's new status, or nothing when it was not held
-- (another release came first). p_output: a done attempt's output, kept on its step row.
CREATE FUNCTION release_held_compensation(p_compensation_id varchar, p_done boolean, p_step_row_id varchar,
                                          p_attempt integer, p_output jsonb) RETURNS varchar AS $$
DECLARE
    v_status varchar;
BEGIN
    IF p_done THEN
        UPDATE workflow_step_executions s SET output = p_output, updated_at = now()
         WHERE s.id = p_step_row_id AND s.attempt = p_attempt AND s.status = 'failed' AND s.output IS NULL
           AND EXISTS (SELECT 1 FROM workflow_step_executions c WHERE c.id = p_compensation_id AND c.held_until IS NOT NULL);
    END IF;
    UPDATE workflow_step_executions c
       SET held_until = NULL, updated_at = now(),
           status = CASE WHEN EXISTS (SELECT 1 FROM steps_as_they_ran(c.execution_id) r
                                       WHERE r.step_id = c.step_id AND r.status = 'completed')
                         THEN 'pending' ELSE 'skipped' END,
           completed_at = CASE WHEN EXISTS (SELECT 1 FROM steps_as_they_ran(c.execution_id) r
                                             WHERE r.step_id = c.step_id AND r.status = 'completed')
                               THEN NULL ELSE now() END
     WHERE c.id = p_compensation_id AND c.held_until IS NOT NULL AND c.status = 'pending'
    RETURNING c.status INTO v_status;
    RETURN v_status;
END;
$$ LANGUAGE plpgsql;
