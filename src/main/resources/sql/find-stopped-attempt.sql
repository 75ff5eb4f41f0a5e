-- The step attempt a heartbeat names that found nothing to extend (extend-attempt.sql): what became of
-- it, for the stop its agent is told (HeartbeatStops) and the coordinator_heartbeat_stops metric; still running,
-- it passed its deadline before the heartbeat reached the broker (V44). compensation_held: a cancel cut it off, and its
-- step's compensation waits for its reply (V47); locks_kept: a cancel cut it off, and its step's locks are kept until
-- its reply (V49). The stop asks for that reply.
SELECT s.execution_id, e.workflow_id, s.step_id, s.kind, s.status, s.attempt, s.error, s.deadline,
       CASE WHEN s.status = 'failed' THEN EXISTS (SELECT 1 FROM workflow_step_executions c
                                                   WHERE c.execution_id = s.execution_id AND c.step_id = s.step_id
                                                     AND c.kind = 'compensation' AND c.held_until IS NOT NULL)
       END AS compensation_held,
       CASE WHEN s.status = 'failed' THEN EXISTS (SELECT 1 FROM resource_locks l
                                                   WHERE l.execution_id = s.execution_id AND l.step_id = s.step_id
                                                     AND l.cut_off_attempt = s.attempt AND l.expires_at > now())
       END AS locks_kept
FROM workflow_step_executions s
JOIN workflow_executions e ON e.id = s.execution_id
WHERE s.id = :#rowId
