-- An attempt's deadline is no later than its execution's (config.timeout_ms bounds the whole execution). Before, a
-- step dispatched late in an execution, or a retry, was given its own timeout (or, without one, the workflow's whole
-- timeout) from its dispatch: its request told the agent a deadline seconds or minutes past the moment the execution
-- timed out, and GET /api/executions/{id} showed it (a workflow author's report of 2026-12-06: a request's deadline
-- 3.7 s after its execution had failed "workflow timed out"). The attempt timeout sweep already leaves such an attempt
-- to the execution's timeout (expire-attempts.sql: its execution's deadline is no later than its own), and a reply
-- that reaches the broker after it settles nothing (V44). A compensation keeps its own timeout: it runs after its
-- execution ended. The statements that start an attempt on the per-step path read the execution's deadline in the
-- join that checks it still runs (it was an EXISTS): LEAST(now() + timeout, e.deadline); the others call
-- capped_deadline (a SQL function with a subquery is not inlined: on the per-step path it cost PostgreSQL about a
-- tenth more CPU per step in the benchmark). The body of complete_attempt_and_start is V44's but for that.
CREATE FUNCTION capped_deadline(p_execution_id varchar, p_kind varchar, p_deadline timestamptz) RETURNS timestamptz AS $$
SELECT CASE WHEN p_kind = 'compensation' THEN p_deadline
            ELSE LEAST(p_deadline, (SELECT e.deadline FROM workflow_executions e WHERE e.id = p_execution_id)) END
$$ LANGUAGE sql STABLE;

CREATE OR REPLACE FUNCTION complete_attempt_and_start(p_row_id varchar, p_kind varchar, p_attempt integer, p_output jsonb,
                                           p_shared_memory jsonb, p_signals jsonb,
                                           p_with_context boolean, p_with_signals boolean, p_with_signal_list boolean,
                                           p_starts jsonb, p_cause varchar,
                                           p_finish boolean, p_partial_success boolean, p_tolerated jsonb,
                                           p_arrivals jsonb, p_arrived_at timestamptz)
    RETURNS TABLE (execution_id text, attempt_started_at timestamptz, execution_status text, trigger_payload text,
                   shared_memory text, signals text, signal_list text, row_id text, step_id text, status text,
                   output text, iteration integer, started text,
                   finished_status text, finished_results text, finished_failures text, arrived text) AS $$
#variable_conflict use_column
DECLARE
    v_execution_id varchar;
    v_step_id      varchar;
    v_agent        varchar;
    v_started_at   timestamptz;
    v_started      text;
    v_finished     text;
    v_results      text;
    v_failures     text;
    v_arrived      text;
    v_arrival      record;
    v_settled      bigint;
BEGIN
    UPDATE workflow_step_executions s
       SET status = 'completed', output = p_output, error = NULL, completed_at = now(), deadline = NULL,
           updated_at = now()
     WHERE s.id = p_row_id AND s.attempt = p_attempt AND s.status = 'running' AND s.kind = p_kind
       AND (p_arrived_at IS NULL OR s.deadline IS NULL OR p_arrived_at <= s.deadline)
    RETURNING s.execution_id, s.step_id, s.agent INTO v_execution_id, v_step_id, v_agent;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    IF p_shared_memory <> '{}'::jsonb OR p_signals <> '[]'::jsonb THEN
        PERFORM merge_reply_context(v_execution_id, v_step_id, v_agent, p_shared_memory, p_signals);
    END IF;
    SELECT a.started_at INTO v_started_at FROM step_attempts a
     WHERE a.step_execution_id = p_row_id AND a.attempt = p_attempt;
    IF p_starts IS NOT NULL AND jsonb_array_length(p_starts) > 0 THEN
        WITH started AS (
            UPDATE workflow_step_executions s
               SET status = 'running', attempt = s.attempt + 1, input = x.input, started_at = now(),
                   deadline = LEAST(now() + s.timeout_ms * interval '1 millisecond', e.deadline),
                   updated_at = now(), handled_by = current_setting('application_name'), dispatched_by = p_cause
              FROM jsonb_to_recordset(p_starts) AS x(row_id text, input jsonb, join_key text), workflow_executions e
             WHERE s.id = x.row_id AND s.execution_id = v_execution_id AND s.status = 'pending'
               AND e.id = v_execution_id AND e.status = 'running' AND (e.deadline IS NULL OR e.deadline > now())
            RETURNING s.id AS started_row, s.step_id AS started_step, s.attempt AS started_attempt,
                      s.max_attempts AS started_max_attempts, s.iteration AS started_iteration,
                      s.deadline AS started_deadline, x.join_key AS started_join_key
        ), joined AS (
            DELETE FROM step_joins j USING started WHERE j.id = started.started_join_key
        )
        SELECT jsonb_agg(jsonb_build_object('row_id', started.started_row, 'step_id', started.started_step,
                                            'attempt', started.started_attempt,
                                            'max_attempts', started.started_max_attempts,
                                            'iteration', started.started_iteration,
                                            'deadline_ms', floor(extract(epoch FROM started.started_deadline) * 1000)::bigint))::text
          INTO v_started FROM started;
    END IF;
    IF p_arrivals IS NOT NULL AND jsonb_array_length(p_arrivals) > 0 THEN
        FOR v_arrival IN SELECT x.join_key, x.step_id, x.depends_on, x.exchange
                           FROM jsonb_to_recordset(p_arrivals) AS x(join_key text, step_id text, depends_on jsonb, exchange text)
        LOOP
            -- the join's row lock: an arrival at the same fan-in still in flight holds it until it commits
            INSERT INTO step_joins AS j (id, exchange, version)
            VALUES (v_arrival.join_key, decode(v_arrival.exchange, 'base64'), 1)
            ON CONFLICT (id) DO UPDATE SET version = j.version + 1;
            -- a statement of its own, so that it sees what the arrival that held the lock before committed
            SELECT count(*) INTO v_settled FROM (
                SELECT DISTINCT ON (d.step_id) d.status FROM workflow_step_executions d
                 WHERE d.execution_id = v_execution_id AND d.kind = 'step'
                   AND d.step_id IN (SELECT jsonb_array_elements_text(v_arrival.depends_on))
                 ORDER BY d.step_id, d.iteration DESC) latest
             WHERE latest.status IN ('completed', 'failed', 'skipped', 'cancelled');
            IF v_settled < jsonb_array_length(v_arrival.depends_on) THEN
                v_arrived := concat_ws(',', v_arrived, v_arrival.step_id);
            END IF;
        END LOOP;
    END IF;
    IF p_finish THEN
        SELECT f.status, f.results, f.failures INTO v_finished, v_results, v_failures
          FROM finish_execution(v_execution_id, p_partial_success, p_tolerated) f;
    END IF;
    IF p_with_context THEN
        RETURN QUERY SELECT v_execution_id::text, v_started_at, c.*, v_started, v_finished, v_results, v_failures, v_arrived
                       FROM execution_context(v_execution_id, p_with_signals, p_with_signal_list) c;
    ELSE
        RETURN QUERY SELECT v_execution_id::text, v_started_at, NULL::text, NULL::text, NULL::text, NULL::text, NULL::text,
                            NULL::text, NULL::text, NULL::text, NULL::text, NULL::integer, v_started,
                            v_finished, v_results, v_failures, v_arrived;
    END IF;
END;
$$ LANGUAGE plpgsql;

-- CREATE OR REPLACE drops the settings V44 gave it
ALTER FUNCTION complete_attempt_and_start(varchar, varchar, integer, jsonb, jsonb, jsonb, boolean, boolean, boolean,
                                          jsonb, varchar, boolean, boolean, jsonb, jsonb, timestamptz)
    SET plan_cache_mode = force_generic_plan;
