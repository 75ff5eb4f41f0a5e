-- GET /api/workflows: the executions still running or compensating on each workflow version, which keep a version
-- this coordinator no longer starts (kept_versions) until the retirement sweep finds none.
SELECT workflow_id, workflow_version, count(*) AS in_flight
FROM workflow_executions
WHERE status IN ('running', 'compensating')
GROUP BY workflow_id, workflow_version
