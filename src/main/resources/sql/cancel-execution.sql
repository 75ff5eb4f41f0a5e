-- Cancels a running execution: nothing more is dispatched; it ends 'cancelled', or starts compensating
-- its completed steps that declare how to undo them. Returns the attempts that were in flight
-- (as the statement found them), whose requests may still wait on their agents' queues. The function
-- (V23) decides once the transitions in flight on the execution's steps have committed.
SELECT execution_id, workflow_id, workflow_version, status, settled_steps, failures, in_flight
  FROM cancel_execution(CAST(:#executionId AS varchar), CAST(:#reason AS text))
