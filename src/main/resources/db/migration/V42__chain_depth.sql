-- How many onSuccess / onFailure events led to an execution: 0 for one an outside event started, and
-- one more than the execution whose outcome started it. A chain of workflows that leads back to itself
-- through both outcomes (A's onSuccess starts B, B's onFailure starts A) passes the load-time check and
-- would run for ever; its events are refused past coordinator.chain.max-depth (ChainDepthGuard).
-- Coordinators of earlier releases insert 0: their chains are counted from the first execution they start.
ALTER TABLE workflow_executions ADD COLUMN chain_depth integer NOT NULL DEFAULT 0;
