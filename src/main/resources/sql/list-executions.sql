SELECT id, workflow_id, workflow_version, status, error, started_at, completed_at
FROM workflow_executions
WHERE (CAST(:#workflowFilter AS varchar) IS NULL OR workflow_id = CAST(:#workflowFilter AS varchar))
  AND (CAST(:#statusFilter AS varchar) IS NULL OR status = CAST(:#statusFilter AS varchar))
ORDER BY created_at DESC
LIMIT CAST(:#limit AS integer)
