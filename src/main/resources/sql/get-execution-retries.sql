-- How many times the execution was retried (V21): it tells one failure's outcome event from the next's.
-- One column: camel-sql hands over the value itself, not a row.
SELECT retries FROM workflow_executions WHERE id = :#executionId
