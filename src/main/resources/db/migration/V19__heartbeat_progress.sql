-- What the agent working on a step last reported in a heartbeat ({"status": "running", "progress": …}).
-- Kept across the step's attempts: a retry after a timeout or a failure is sent it (the step request's
-- "progress"), so that the agent can resume where the attempt before got to instead of starting over.
-- NULL until a heartbeat carries some. A nullable column without a default: no table rewrite.
ALTER TABLE workflow_step_executions ADD COLUMN progress jsonb;
