-- The newest executions, optionally of one workflow and / or in one status (list_executions, V15: planned for
-- each call's values).
SELECT * FROM list_executions(CAST(:#workflowFilter AS varchar), CAST(:#statusFilter AS varchar), CAST(:#limit AS integer))
