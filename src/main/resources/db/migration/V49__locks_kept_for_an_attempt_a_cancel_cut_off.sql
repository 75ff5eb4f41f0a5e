-- A cancel cannot take back a request an agent already holds: the agent of a step in flight may go on working on the
-- locked resource until it replies, or learns of the cancel at its next heartbeat. Before, the step's locks were
-- released with the cancel, and another holder could start on the resource while that agent still worked on it. Now
-- they are kept for the attempt the cancel cut off (cut_off_attempt), in force no longer than its deadline, and
-- released as soon as the coordinator learns that the attempt ended: its reply, ok or error (record-ignored-reply.sql,
-- release_held_compensation), or its request taken back off the agent's queue before an agent took it
-- (release-cut-off-locks.sql). A holder that takes them again (a retry of the execution, the step's compensation)
-- renews them as its own (acquire-lock.sql clears cut_off_attempt).
ALTER TABLE resource_locks ADD COLUMN cut_off_attempt integer;
COMMENT ON COLUMN resource_locks.cut_off_attempt IS
    'kept for this attempt of the holder''s step, cut off by a cancel while its agent may still work; until its reply or expires_at (V49)';

-- As V22's, and: a step's row that a cancel (cancel_execution, which names its execution in coordinator.cutting_off for
-- the statement that settles its steps) moves from running to failed keeps its locks for the attempt, until its deadline.
-- The holder's lock rows are locked first in the order acquirers take them (LockedStepStart: by type, then id): a
-- DELETE or UPDATE visits them in the table's order, and an acquirer of two of them that had taken one would deadlock
-- with it, aborting this transition (a reply, a cancel) rather than the acquirer (the SQL reviewer reproduced it).
CREATE OR REPLACE FUNCTION settle_step_locks() RETURNS trigger AS $$
BEGIN
    PERFORM 1 FROM resource_locks l
      WHERE l.execution_id = NEW.execution_id AND l.step_id = NEW.step_id
      ORDER BY l.resource_type COLLATE "C", l.resource_id COLLATE "C"
        FOR UPDATE;
    IF NEW.status = 'failed' AND OLD.status = 'running' AND NEW.kind = 'step' AND OLD.deadline > now()
       AND current_setting('coordinator.cutting_off', true) = NEW.execution_id THEN
        UPDATE resource_locks
           SET cut_off_attempt = OLD.attempt, expires_at = OLD.deadline
         WHERE execution_id = NEW.execution_id AND step_id = NEW.step_id;
    ELSIF NEW.status IN ('completed', 'failed', 'skipped') THEN
        DELETE FROM resource_locks l
         WHERE l.execution_id = NEW.execution_id AND l.step_id = NEW.step_id
           AND NOT EXISTS (SELECT 1 FROM workflow_step_executions s
                            WHERE s.execution_id = NEW.execution_id AND s.step_id = NEW.step_id AND s.kind = 'step'
                              AND s.id <> NEW.id AND (s.status = 'running' OR s.next_attempt_at IS NOT NULL));
    ELSIF NEW.status = 'running' AND NEW.attempt <> OLD.attempt THEN
        UPDATE resource_locks
           SET expires_at = now() + ttl_ms * interval '1 millisecond'
         WHERE execution_id = NEW.execution_id AND step_id = NEW.step_id;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

-- As V47's, and: the statement that settles the execution's steps names it in coordinator.cutting_off (for this
-- transaction only, cleared after it), so that settle_step_locks keeps the locks of the attempts it cuts off. A
-- deadlock waits 50 ms before starting over: at once, it took the row the other transaction waited for again before
-- that one could, the same cycle formed, and this time the other (a reply that had its step's row first) was aborted.
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
    PERFORM set_config('coordinator.cutting_off', p_execution_id, true);
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
    PERFORM set_config('coordinator.cutting_off', '', true);
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
        PERFORM pg_sleep(0.05);   -- lets the transition that waited for a row of this block have it first, then starts over
    END;
    END LOOP;
    RETURN QUERY SELECT * FROM jsonb_to_recordset(COALESCE(v_rows, '[]'::jsonb))
        AS r(execution_id varchar, workflow_id varchar, workflow_version integer, status varchar,
             settled_steps bigint, failures text, in_flight text);
END;
$$ LANGUAGE plpgsql;

-- As V47's, and: a held compensation that ends skipped (nothing of the attempt stands) frees the locks kept for that
-- attempt; one that runs keeps them, and takes them as its own when it starts (the undo follows the work on the
-- resource without another holder in between).
CREATE OR REPLACE FUNCTION release_held_compensation(p_compensation_id varchar, p_done boolean, p_step_row_id varchar,
                                                     p_attempt integer, p_output jsonb) RETURNS varchar AS $$
DECLARE
    v_status varchar;
    v_execution_id varchar;
    v_step_id varchar;
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
    RETURNING c.status, c.execution_id, c.step_id INTO v_status, v_execution_id, v_step_id;
    IF v_status = 'skipped' THEN
        PERFORM 1 FROM resource_locks l   -- in the acquirers' order, as settle_step_locks
          WHERE l.execution_id = v_execution_id AND l.step_id = v_step_id AND l.cut_off_attempt IS NOT NULL
          ORDER BY l.resource_type COLLATE "C", l.resource_id COLLATE "C"
            FOR UPDATE;
        DELETE FROM resource_locks l
         WHERE l.execution_id = v_execution_id AND l.step_id = v_step_id AND l.cut_off_attempt IS NOT NULL;
    END IF;
    RETURN v_status;
END;
$$ LANGUAGE plpgsql;
