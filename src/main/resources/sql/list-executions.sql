-- One page of executions, newest first, optionally of one workflow and / or in one status, after the cursor of the
-- page before (afterMicros and afterId, or NULL for the first page; list_executions, V17: planned for each call's
-- values).
SELECT * FROM list_executions(CAST(:#workflowFilter AS varchar), CAST(:#statusFilter AS varchar), CAST(:#limit AS integer),
                              CAST(:#afterMicros AS bigint), CAST(:#afterId AS varchar))
