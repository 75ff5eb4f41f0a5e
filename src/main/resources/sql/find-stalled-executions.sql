-- Running executions with nothing of theirs moving: no step running, waiting for its next attempt or for a lock,
-- and no row of theirs changed for stallMs. In normal flow this does not happen: a step settles and its
-- dependents start in one statement. It happens when a statement committed and what had to follow it
-- did not run: the coordinator stopped in between (a timeout sweep had failed a step and not yet decided
-- its dependents, a retry had reset steps and not yet dispatched them), or that follow-up failed. Each
-- such execution's pending steps are handed to their step routes again, which decide (wait, skip, run)
-- from the database with guarded updates, so a second hand-over is harmless; with none pending, its
-- finish is checked. Taking one up touches its pending rows, so that it is taken up again only after
-- another stallMs, whichever coordinator's sweep runs next, and SKIP LOCKED lets several coordinators
-- share the sweep.
WITH stalled AS (
    SELECT e.id, e.workflow_id, e.workflow_version, e.status
      FROM workflow_executions e
     WHERE e.status = 'running'
       AND NOT EXISTS (SELECT 1 FROM workflow_step_executions s
                        WHERE s.execution_id = e.id
                          AND (s.status = 'running' OR s.next_attempt_at IS NOT NULL OR s.waiting_since IS NOT NULL
                               OR s.updated_at > now() - CAST(:#stallMs AS bigint) * interval '1 millisecond'))
     ORDER BY e.deadline   -- the partial index of running executions (the pkey order would walk every execution)
     LIMIT CAST(:#sweepLimit AS integer)
       FOR UPDATE OF e SKIP LOCKED
), taken_up AS (
    UPDATE workflow_step_executions s
       SET updated_at = now()
      FROM stalled
     WHERE s.execution_id = stalled.id AND s.kind = 'step' AND s.status = 'pending' AND s.next_attempt_at IS NULL
    RETURNING s.execution_id, s.step_id
)
SELECT stalled.id AS execution_id, stalled.workflow_id, stalled.workflow_version, stalled.status,
       COALESCE((SELECT jsonb_agg(DISTINCT t.step_id ORDER BY t.step_id) FROM taken_up t WHERE t.execution_id = stalled.id),
                '[]'::jsonb)::text AS pending_steps
  FROM stalled
