-- An attempt's record says timed_out only when the coordinator timed it out (V29). V29 told that from the
-- error's text alone, safe while an agent's error was stored as "attempt N/M: <error>"; it is stored as
-- the agent wrote it now, and an agent passing on "workflow timed out after 30000 ms" (from a workflow it
-- ran itself) had its attempt recorded as the coordinator's timeout. The text must now come with the
-- deadline it names having passed: the attempt's, or the execution's.
CREATE OR REPLACE FUNCTION record_step_attempt() RETURNS trigger AS $$
BEGIN
    IF NEW.attempt > 0 AND (TG_OP = 'INSERT' OR NEW.attempt <> OLD.attempt) THEN
        INSERT INTO step_attempts (step_execution_id, attempt, execution_id, step_id, status, started_at)
        VALUES (NEW.id, NEW.attempt, NEW.execution_id, NEW.step_id, 'running', now());
    END IF;
    IF TG_OP = 'UPDATE' AND OLD.status = 'running' AND NEW.status <> 'running' THEN
        UPDATE step_attempts
           SET status = CASE WHEN NEW.status = 'completed' THEN 'completed'
                             WHEN NEW.error ~ '^attempt [0-9]+ timed out after ' AND OLD.deadline <= now() THEN 'timed_out'
                             WHEN NEW.error ~ '^workflow timed out after '
                                  AND EXISTS (SELECT 1 FROM workflow_executions e
                                               WHERE e.id = NEW.execution_id AND e.deadline <= now()) THEN 'timed_out'
                             ELSE 'failed' END,
               error = NEW.error, completed_at = now()
         WHERE step_execution_id = NEW.id AND attempt = OLD.attempt;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
