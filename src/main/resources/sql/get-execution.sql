SELECT id, workflow_id, workflow_version, status, trigger_payload::text AS trigger_payload, result::text AS result,
       error, started_at, completed_at, deadline, trigger_event_key AS event_id, retries, chain_depth
FROM workflow_executions WHERE id = :#executionId
