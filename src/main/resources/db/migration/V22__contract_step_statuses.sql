-- Step rows take only the statuses CONTRACT.md section 3 lists: pending, running, completed, failed,
-- skipped. A step waiting for its next attempt (its last one failed or timed out, and attempts are
-- left) is 'pending' with next_attempt_at set: it was 'retrying'. A step its execution's cancel
-- stopped is 'failed' with the cancel's reason as its error, as an execution timeout leaves it: it
-- was 'cancelled'. The statements that start a pending step (its dependency completed, a decision
-- taken again) leave a row with next_attempt_at alone: only the retry sweep starts it, when it is due.
UPDATE workflow_step_executions SET status = 'pending' WHERE status = 'retrying';
UPDATE workflow_step_executions SET status = 'failed' WHERE status = 'cancelled';

ALTER TABLE workflow_step_executions ADD CONSTRAINT step_status_in_contract
    CHECK (status IN ('pending', 'running', 'completed', 'failed', 'skipped'));

-- A coordinator of an earlier release still running beside this one (a rolling upgrade) writes the old
-- statuses: they are stored as this release stores them (its 'retrying' statements also set
-- next_attempt_at). The WHEN clause keeps every other write from calling the function at all.
CREATE FUNCTION step_status_of_earlier_releases() RETURNS trigger AS $$
BEGIN
    NEW.status := CASE NEW.status WHEN 'retrying' THEN 'pending' ELSE 'failed' END;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER trg_step_status_of_earlier_releases
    BEFORE INSERT OR UPDATE OF status ON workflow_step_executions
    FOR EACH ROW WHEN (NEW.status IN ('retrying', 'cancelled'))
    EXECUTE FUNCTION step_status_of_earlier_releases();

DROP INDEX idx_steps_retry_due;
CREATE INDEX idx_steps_retry_due ON workflow_step_executions (next_attempt_at) WHERE next_attempt_at IS NOT NULL;

-- The step's state as a decision reads it (StepPlanner): a pending row waiting for its next attempt is
-- 'retrying' there, already decided, so that nothing but the retry sweep starts it. Otherwise as V5.
CREATE OR REPLACE FUNCTION execution_context(p_execution_id varchar, p_with_signals boolean, p_with_signal_list boolean)
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
       s.id::text, s.step_id::text,
       CASE WHEN s.next_attempt_at IS NOT NULL THEN 'retrying' ELSE s.status::text END,
       s.output::text, s.iteration
FROM workflow_executions e
LEFT JOIN LATERAL (
    SELECT DISTINCT ON (step_id) id, step_id, status, next_attempt_at, output, iteration
    FROM workflow_step_executions
    WHERE execution_id = e.id AND kind = 'step'
    ORDER BY step_id, iteration DESC
) s ON true
WHERE e.id = p_execution_id
$$ LANGUAGE sql STABLE;

-- As V3_1, with a row waiting for its next attempt (pending, next_attempt_at set) still holding the
-- step's locks, as a 'retrying' row did.
CREATE OR REPLACE FUNCTION settle_step_locks() RETURNS trigger AS $$
BEGIN
    IF NEW.status IN ('completed', 'failed', 'skipped') THEN
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
