-- withOutputs false (GET /api/executions/{id}?outputs=false): neither the trigger's payload nor the result is read
SELECT id, workflow_id, workflow_version, status,
       CASE WHEN CAST(:#withOutputs AS boolean) THEN trigger_payload::text END AS trigger_payload,
       CASE WHEN CAST(:#withOutputs AS boolean) THEN result::text END AS result,
       error, started_at, completed_at, deadline, trigger_event_key AS event_id, retries, chain_depth
FROM workflow_executions WHERE id = :#executionId
