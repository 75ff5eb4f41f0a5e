-- How many times the execution was retried after it failed (POST /api/executions/{id}/retry). Each end
-- of the execution is an outcome of its own: an onFailure event after the n-th retry carries
-- event_id <execution>:<status>:<n>, so the coordinator does not take it for the first end's duplicate.
ALTER TABLE workflow_executions ADD COLUMN retries integer NOT NULL DEFAULT 0;
