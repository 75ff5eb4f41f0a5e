-- The newest executions, optionally of one workflow and / or in one status. Written for a generic
-- plan (the coordinator's sessions plan each statement once: Database.java): a branch per filter
-- combination, each skipped before it runs unless its parameters are the ones given, so that both
-- filters together use idx_executions_workflow_status, as a plan for the call's own values would.
SELECT id, workflow_id, workflow_version, status, error, started_at, completed_at
FROM (
    SELECT * FROM workflow_executions
     WHERE CAST(:#workflowFilter AS varchar) IS NOT NULL AND CAST(:#statusFilter AS varchar) IS NOT NULL
       AND workflow_id = CAST(:#workflowFilter AS varchar) AND status = CAST(:#statusFilter AS varchar)
    UNION ALL
    SELECT * FROM workflow_executions
     WHERE CAST(:#workflowFilter AS varchar) IS NOT NULL AND CAST(:#statusFilter AS varchar) IS NULL
       AND workflow_id = CAST(:#workflowFilter AS varchar)
    UNION ALL
    SELECT * FROM workflow_executions
     WHERE CAST(:#workflowFilter AS varchar) IS NULL
       AND (CAST(:#statusFilter AS varchar) IS NULL OR status = CAST(:#statusFilter AS varchar))
) e
ORDER BY created_at DESC
LIMIT CAST(:#limit AS integer)
