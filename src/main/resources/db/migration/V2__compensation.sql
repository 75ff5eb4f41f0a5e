-- Compensation (saga): a step row carries what undoes it, decided when the execution starts, so that
-- whichever statement ends the execution unsuccessfully (finish, cancel, timeout) can begin the
-- compensation atomically: moving the execution to 'compensating' creates one 'compensation' row per
-- completed step that has a compensating action.
ALTER TABLE workflow_step_executions ADD COLUMN compensation jsonb;

CREATE FUNCTION begin_compensation() RETURNS trigger AS $$
BEGIN
    INSERT INTO workflow_step_executions (id, execution_id, step_id, iteration, kind, agent, action,
                                          max_attempts, timeout_ms, backoff_ms)
    SELECT gen_random_uuid()::text, NEW.id, s.step_id, 0, 'compensation',
           s.compensation->>'agent', s.compensation->>'action', (s.compensation->>'max_attempts')::int,
           (s.compensation->>'timeout_ms')::bigint, (s.compensation->>'backoff_ms')::bigint
      FROM (SELECT DISTINCT ON (step_id) step_id, status, compensation
              FROM workflow_step_executions
             WHERE execution_id = NEW.id AND kind = 'step'
             ORDER BY step_id, iteration DESC) s
     WHERE s.status = 'completed' AND s.compensation IS NOT NULL
    ON CONFLICT (execution_id, step_id, iteration, kind) DO NOTHING;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER trg_begin_compensation
    AFTER UPDATE OF status ON workflow_executions
    FOR EACH ROW WHEN (NEW.status = 'compensating' AND OLD.status IS DISTINCT FROM 'compensating')
    EXECUTE FUNCTION begin_compensation();

CREATE INDEX idx_executions_compensating ON workflow_executions (id) WHERE status = 'compensating';
