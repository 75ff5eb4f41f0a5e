-- The reply of a step's attempt cut off by a cancel, whose compensation is held for it (V47): done (the reply's
-- output is kept on the step row), the compensation runs; an error, it is skipped unless an earlier iteration of
-- the step stands. Its request taken back off the agent's queue before an agent took it is read as an error reply
-- (heldDone false, no output). Returns the compensation's new status; no row when it is not held (released already). The row is
-- locked before the function changes it (a row a statement's own function changed is not one it can lock after).
WITH held AS MATERIALIZED (
    SELECT c.id, c.execution_id, c.step_id
      FROM workflow_step_executions c
     WHERE c.execution_id = :#executionId AND c.step_id = :#stepId AND c.kind = 'compensation' AND c.held_until IS NOT NULL
       FOR UPDATE
)
SELECT * FROM (
    SELECT held.execution_id, held.step_id, e.workflow_id, e.workflow_version,
           release_held_compensation(held.id, CAST(:#heldDone AS boolean), CAST(:#rowId AS varchar),
                                     CAST(:#replyAttempt AS integer), CAST(:#output AS jsonb)) AS status
      FROM held JOIN workflow_executions e ON e.id = held.execution_id
) released
WHERE released.status IS NOT NULL
