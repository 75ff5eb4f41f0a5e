-- An attempt's record says timed_out only when the coordinator timed it out: its attempt's deadline passed
-- (expire-attempts.sql) or its execution's (expire_executions, V23). V1 matched any error containing "timed out",
-- so an agent's own error ("Read timed out", stored as "attempt 1/3: Read timed out") was recorded as the
-- coordinator's timeout. The errors an agent reports always start "attempt N/M: " (StepOutcome), never these.
CREATE OR REPLACE FUNCTION record_step_attempt() RETURNS trigger AS $$
BEGIN
    IF NEW.attempt > 0 AND (TG_OP = 'INSERT' OR NEW.attempt <> OLD.attempt) THEN
        INSERT INTO step_attempts (step_execution_id, attempt, execution_id, step_id, status, started_at)
        VALUES (NEW.id, NEW.attempt, NEW.execution_id, NEW.step_id, 'running', now());
    END IF;
    IF TG_OP = 'UPDATE' AND OLD.status = 'running' AND NEW.status <> 'running' THEN
        UPDATE step_attempts
           SET status = CASE WHEN NEW.status = 'completed' THEN 'completed'
                             WHEN NEW.error ~ '^(attempt [0-9]+|workflow) timed out after ' THEN 'timed_out'
                             ELSE 'failed' END,
               error = NEW.error, completed_at = now()
         WHERE step_execution_id = NEW.id AND attempt = OLD.attempt;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
