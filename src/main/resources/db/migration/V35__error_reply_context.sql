-- An error reply's signals and shared memory reach the execution's shared context as a result's do
-- (merge_reply_context, V4): fail-step.sql and retry-step-later.sql call this with the row their
-- transition changed. Returns when the attempt began, which both statements return.
CREATE FUNCTION settle_error_reply(p_row_id varchar, p_attempt integer, p_execution_id varchar, p_step_id varchar,
                                   p_agent varchar, p_shared_memory jsonb, p_signals jsonb) RETURNS timestamptz AS $$
BEGIN
    IF p_shared_memory <> '{}'::jsonb OR p_signals <> '[]'::jsonb THEN
        PERFORM merge_reply_context(p_execution_id, p_step_id, p_agent, p_shared_memory, p_signals);
    END IF;
    RETURN (SELECT a.started_at FROM step_attempts a WHERE a.step_execution_id = p_row_id AND a.attempt = p_attempt);
END;
$$ LANGUAGE plpgsql;
