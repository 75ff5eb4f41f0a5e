-- A loop whose iterations start at a step that asks for the execution's context (config.include_context): the
-- context its next iteration's request carries, read once the loop step's iteration completed (complete-and-iterate.sql
-- and complete-and-iterate-steps.sql copied the one of its previous iteration), kept with the row as
-- mark-running-with-context.sql keeps it, so that a retry or a re-sent request carries the same.
UPDATE workflow_step_executions
   SET request_context = CAST(:#requestContext AS jsonb), updated_at = now()
 WHERE id = :#rowId AND status = 'running'
