-- What a reply adds to its execution's shared context, in one place for every statement that
-- completes a step: shared_memory merged by top-level key (under the execution row's lock, so
-- parallel branches lose nothing) and each well-formed signal stored.
CREATE FUNCTION merge_reply_context(p_execution_id varchar, p_step_id varchar, p_agent varchar,
                                    p_shared_memory jsonb, p_signals jsonb) RETURNS void AS $$
BEGIN
    IF p_shared_memory <> '{}'::jsonb THEN
        UPDATE workflow_executions SET shared_memory = shared_memory || p_shared_memory WHERE id = p_execution_id;
    END IF;
    INSERT INTO execution_signals (execution_id, step_id, from_agent, signal_type, data)
    SELECT p_execution_id, p_step_id, p_agent, s->>'signal_type', s->'data'
      FROM jsonb_array_elements(p_signals) s;
END;
$$ LANGUAGE plpgsql;
