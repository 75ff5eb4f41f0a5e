-- DELETE /api/locks/{lockId}: an operator frees a lock by hand, recorded in lock_events ('released', taken_by names
-- the API). Not one whose holder's step runs (its agent works on the resource under it: cancel the execution first);
-- one kept for an attempt a cancel cut off (V49) or left by a holder that no longer runs, yes. No row: no such lock.
WITH held AS MATERIALIZED (
    SELECT l.* FROM resource_locks l WHERE l.id = :#lockId FOR UPDATE
), judged AS (
    SELECT held.*, EXISTS (SELECT 1 FROM workflow_step_executions s
                            WHERE s.execution_id = held.execution_id AND s.step_id = held.step_id
                              AND s.status = 'running') AS step_runs
      FROM held
), released AS (
    DELETE FROM resource_locks l USING judged j WHERE l.id = j.id AND NOT j.step_runs
    RETURNING l.id
), recorded AS (
    INSERT INTO lock_events (resource_type, resource_id, event, holder, taken_by)
    SELECT j.resource_type, j.resource_id, 'released',
           jsonb_build_object('lock_id', j.id, 'locked_by', j.locked_by, 'priority', j.priority,
                              'execution_id', j.execution_id, 'step_id', j.step_id, 'cut_off_attempt', j.cut_off_attempt),
           jsonb_build_object('by', 'hand', 'through', 'DELETE /api/locks/' || j.id)
      FROM judged j WHERE EXISTS (SELECT 1 FROM released)
    RETURNING id
)
SELECT j.id AS lock_id, j.resource_type, j.resource_id, j.locked_by, j.execution_id, j.step_id, j.cut_off_attempt,
       j.step_runs, EXISTS (SELECT 1 FROM released) AS released, (SELECT count(*) FROM recorded) AS recorded
  FROM judged j
