-- How many times the execution was retried (V21) when it settled with :status: it tells one failure's
-- outcome event from the next's. An execution found in another status has moved on since (only a
-- failed one is retried, and a retry makes it run again): that retry came after this outcome.
-- One column: camel-sql hands over the value itself, not a row.
SELECT CASE WHEN status = :#status THEN retries ELSE GREATEST(retries - 1, 0) END
  FROM workflow_executions WHERE id = :#executionId
