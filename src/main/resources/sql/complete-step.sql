-- running -> completed, with what the reply adds to the shared context (merge_reply_context, V4).
WITH done AS (
    UPDATE workflow_step_executions
       SET status = 'completed', output = CAST(:#output AS jsonb), error = NULL, completed_at = now(),
           deadline = NULL, updated_at = now()
     WHERE id = :#rowId AND attempt = :#attempt AND status = 'running'
    RETURNING execution_id, step_id, agent
)
SELECT count(*) AS applied
FROM done, LATERAL (SELECT merge_reply_context(done.execution_id, done.step_id, done.agent,
                                               CAST(:#sharedMemory AS jsonb), CAST(:#signals AS jsonb))) merged
