-- Less work per transition (issue 7). Every update of a step row changes its status, which the
-- partial indexes depend on, so none is a HOT update: each writes a new entry into every index.

-- idx_step_execution (execution_id, step_id) is a prefix of uq_step_execution (execution_id, step_id,
-- iteration, kind), which serves every lookup it served.
DROP INDEX idx_step_execution;

-- As in V5, but a reply without shared memory or signals (most of them) skips merge_reply_context.
CREATE OR REPLACE FUNCTION complete_attempt(p_row_id varchar, p_kind varchar, p_attempt integer, p_output jsonb,
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
    IF p_shared_memory <> '{}'::jsonb OR p_signals <> '[]'::jsonb THEN
        PERFORM merge_reply_context(v_execution_id, v_step_id, v_agent, p_shared_memory, p_signals);
    END IF;
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

-- The attempt history trigger ran its PL/pgSQL function for every inserted and updated row, also for
-- the pending rows of a new execution and for transitions that touch no attempt; a WHEN clause is
-- checked before the trigger event is even queued. Same function, same effect, as two triggers.
DROP TRIGGER trg_record_step_attempt ON workflow_step_executions;
CREATE TRIGGER trg_record_step_attempt_insert
    AFTER INSERT ON workflow_step_executions
    FOR EACH ROW WHEN (NEW.attempt > 0) EXECUTE FUNCTION record_step_attempt();
CREATE TRIGGER trg_record_step_attempt_update
    AFTER UPDATE OF status, attempt ON workflow_step_executions
    FOR EACH ROW WHEN ((NEW.attempt > 0 AND NEW.attempt <> OLD.attempt)
                       OR (OLD.status = 'running' AND NEW.status <> 'running'))
    EXECUTE FUNCTION record_step_attempt();
