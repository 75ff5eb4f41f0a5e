-- A held compensation (V47) whose step's request was taken back off its agent's queue before an agent took it:
-- that attempt did nothing, so nothing of it is undone (unless an earlier iteration of a loop's step stands). Locked
-- first, as in release-held-compensation.sql.
WITH held AS MATERIALIZED (
    SELECT c.id, c.execution_id, c.step_id
      FROM workflow_step_executions c
     WHERE c.execution_id = :#executionId AND c.step_id = :#stepId AND c.kind = 'compensation' AND c.held_until IS NOT NULL
       FOR UPDATE
)
SELECT * FROM (
    SELECT held.execution_id, held.step_id, e.workflow_id, e.workflow_version,
           release_held_compensation(held.id, false, NULL, NULL, NULL) AS status
      FROM held JOIN workflow_executions e ON e.id = held.execution_id
) released
WHERE released.status IS NOT NULL
