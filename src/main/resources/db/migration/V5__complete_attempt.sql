-- One round trip per completed step (issue 7): the reply's transition and what the steps after it
-- need to decide, instead of one statement to complete the step and one more per dependent to read
-- the execution back.

-- Everything a step needs to decide whether and how to run: the trigger, the shared context and the
-- latest iteration of every step of the execution (one row per step). The signals are read only for
-- steps that ask (p_with_signals: latest data per type, for from_signal inputs; p_with_signal_list:
-- every signal in order, for requests that carry the execution's context); a CASE branch not taken
-- is never evaluated.
CREATE FUNCTION execution_context(p_execution_id varchar, p_with_signals boolean, p_with_signal_list boolean)
    RETURNS TABLE (execution_status text, trigger_payload text, shared_memory text, signals text, signal_list text,
                   row_id text, step_id text, status text, output text, iteration integer) AS $$
SELECT e.status::text, e.trigger_payload::text, e.shared_memory::text,
       CASE WHEN p_with_signals THEN
           (SELECT jsonb_object_agg(signal_type, data)::text FROM (
                SELECT DISTINCT ON (signal_type) signal_type, data FROM execution_signals
                 WHERE execution_id = e.id ORDER BY signal_type, id DESC) latest)
       END,
       CASE WHEN p_with_signal_list THEN
           (SELECT jsonb_agg(jsonb_build_object('from_agent', from_agent, 'signal_type', signal_type, 'data', data)
                             ORDER BY id)::text
              FROM execution_signals WHERE execution_id = e.id)
       END,
       s.id::text, s.step_id::text, s.status::text, s.output::text, s.iteration
FROM workflow_executions e
LEFT JOIN LATERAL (
    SELECT DISTINCT ON (step_id) id, step_id, status, output, iteration
    FROM workflow_step_executions
    WHERE execution_id = e.id AND kind = 'step'
    ORDER BY step_id, iteration DESC
) s ON true
WHERE e.id = p_execution_id
$$ LANGUAGE sql STABLE;

-- running -> completed for the attempt a reply answers, with what the reply adds to the shared
-- context. No row when the attempt is not the one in flight (late, duplicate, or another kind of
-- row). Otherwise the execution, when the attempt began (for the step-latency metric) and, when
-- p_with_context, the execution's context as execution_context() gives it, read after this step's
-- own change, for the steps that depend on it.
CREATE FUNCTION complete_attempt(p_row_id varchar, p_kind varchar, p_attempt integer, p_output jsonb,
                                 p_shared_memory jsonb, p_signals jsonb,
                                 p_with_context boolean, p_with_signals boolean, p_with_signal_list boolean)
    RETURNS TABLE (execution_id text, attempt_started_at timestamptz, execution_status text, trigger_payload text,
                   shared_memory text, signals text, signal_list text, row_id text, step_id text, status text,
                   output text, iteration integer) AS $$
#variable_conflict use_column
DECLARE
    v_execution_id varchar;
    v_step_id      varchar;
    v_agent        varchar;
    v_started_at   timestamptz;
BEGIN
    UPDATE workflow_step_executions s
       SET status = 'completed', output = p_output, error = NULL, completed_at = now(), deadline = NULL,
           updated_at = now()
     WHERE s.id = p_row_id AND s.attempt = p_attempt AND s.status = 'running' AND s.kind = p_kind
    RETURNING s.execution_id, s.step_id, s.agent INTO v_execution_id, v_step_id, v_agent;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    PERFORM merge_reply_context(v_execution_id, v_step_id, v_agent, p_shared_memory, p_signals);
    SELECT a.started_at INTO v_started_at FROM step_attempts a
     WHERE a.step_execution_id = p_row_id AND a.attempt = p_attempt;
    IF p_with_context THEN
        RETURN QUERY SELECT v_execution_id::text, v_started_at, c.* FROM execution_context(v_execution_id, p_with_signals, p_with_signal_list) c;
    ELSE
        RETURN QUERY SELECT v_execution_id::text, v_started_at, NULL::text, NULL::text, NULL::text, NULL::text, NULL::text,
                            NULL::text, NULL::text, NULL::text, NULL::text, NULL::integer;
    END IF;
END;
$$ LANGUAGE plpgsql;
