-- The step attempt a heartbeat names that found nothing to extend (extend-attempt.sql): what became of
-- it, for the stop its agent is told (HeartbeatStops) and the coordinator_heartbeat_stops metric; still running,
-- it passed its deadline before the heartbeat reached the broker (V44).
SELECT s.execution_id, e.workflow_id, s.step_id, s.status, s.attempt, s.error, s.deadline
FROM workflow_step_executions s
JOIN workflow_executions e ON e.id = s.execution_id
WHERE s.id = :#rowId
