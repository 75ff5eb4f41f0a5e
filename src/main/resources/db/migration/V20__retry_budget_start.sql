-- The attempt after which a step's current budget of attempts starts: 0, or the attempts it had made
-- when a retry of its execution (reset-failed-steps.sql) gave it a new budget. The backoff before a
-- retry doubles from the budget's first attempt (retry-step-later.sql, expire-attempts.sql), as it did
-- on the execution's first run, instead of from the step's first attempt ever: after two retries of an
-- execution, a step's backoff would otherwise have grown 2^(2 × its attempts) times.
ALTER TABLE workflow_step_executions ADD COLUMN budget_start integer NOT NULL DEFAULT 0;
