-- Ends the execution once every step is settled, or starts compensating it (finish_execution, V8). Only
-- one caller wins (status guard), so the onSuccess/onFailure event is published once.
SELECT * FROM finish_execution(:#executionId, CAST(:#partialSuccess AS boolean), CAST(:#toleratedFailures AS jsonb))
