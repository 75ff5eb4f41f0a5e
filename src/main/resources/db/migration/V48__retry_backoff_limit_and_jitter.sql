-- A step's (or compensation's) retry policy beyond doubling: config.retry_backoff_max_ms bounds each delay (it
-- doubled from retry_backoff_ms up to 2^20 times: a step with 20 retries of 500 ms waited six days before its
-- last), and config.retry_jitter draws each delay between half of it and all of it (equal jitter), so that steps that
-- failed together (an agent's outage) do not all retry in the same instant. Rows of steps that set neither keep
-- NULL and false: their delays are as before.
ALTER TABLE workflow_step_executions ADD COLUMN backoff_max_ms bigint, ADD COLUMN backoff_jitter boolean NOT NULL DEFAULT false;

-- The delay before a retry: p_doublings is the number of retries before it in its budget (attempt - 1 - budget_start).
CREATE FUNCTION retry_delay(p_backoff_ms bigint, p_doublings integer, p_max_ms bigint, p_jitter boolean) RETURNS interval AS $$
    SELECT (LEAST(p_backoff_ms * power(2, LEAST(GREATEST(p_doublings, 0), 20)), COALESCE(p_max_ms, 'Infinity'::double precision))
            * CASE WHEN p_jitter THEN 0.5 + random() / 2 ELSE 1 END) * interval '1 millisecond'
$$ LANGUAGE sql VOLATILE;

-- A compensation's row takes its policy from its step's compensation (begin_compensation, V37, and a cancel's held
-- compensation, V47, write the others from there): its columns are filled here rather than in each of those.
CREATE FUNCTION compensation_retry_policy() RETURNS trigger AS $$
BEGIN
    SELECT (s.compensation ->> 'backoff_max_ms')::bigint, COALESCE((s.compensation ->> 'backoff_jitter')::boolean, false)
      INTO NEW.backoff_max_ms, NEW.backoff_jitter
      FROM workflow_step_executions s
     WHERE s.execution_id = NEW.execution_id AND s.step_id = NEW.step_id AND s.kind = 'step'
     ORDER BY s.iteration DESC LIMIT 1;
    NEW.backoff_jitter := COALESCE(NEW.backoff_jitter, false);
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER trg_compensation_retry_policy
    BEFORE INSERT ON workflow_step_executions
    FOR EACH ROW WHEN (NEW.kind = 'compensation')
    EXECUTE FUNCTION compensation_retry_policy();
