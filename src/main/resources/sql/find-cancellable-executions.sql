-- The running executions of a workflow that a bulk cancel takes (POST /api/executions/cancel with workflow_id):
-- of that workflow, of one version of it when workflowVersion is given, oldest first; one more than the limit, which
-- tells the client that more are left.
SELECT id
  FROM workflow_executions
 WHERE status = 'running' AND workflow_id = :#workflowId
   AND (CAST(:#workflowVersion AS integer) IS NULL OR workflow_version = CAST(:#workflowVersion AS integer))
 ORDER BY created_at, id
 LIMIT CAST(:#limit AS integer) + 1
