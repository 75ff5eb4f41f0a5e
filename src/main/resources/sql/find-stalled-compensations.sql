-- Executions left compensating with nothing of theirs moving: the statement that moved the execution to
-- 'compensating' (a failure's finish, a cancel, a timeout) committed, but no compensation was dispatched
-- after it (the coordinator stopped in between, or the dispatch failed). Nothing else would ever move
-- them again. stallMs: how long no row of the execution may have changed before it counts as stalled;
-- a compensation in flight (running, or waiting for its next attempt, or held: V47) is moving. Taking one up touches its
-- compensation rows, so that it is taken up again only after another stallMs, whichever coordinator's
-- sweep runs next (a compensate route that keeps failing runs once per stallMs), and SKIP LOCKED lets
-- several coordinators share the sweep.
WITH stalled AS (
    SELECT e.id, e.workflow_id, e.workflow_version, e.status
      FROM workflow_executions e
     WHERE e.status = 'compensating'
       AND EXISTS (SELECT 1 FROM workflow_step_executions c WHERE c.execution_id = e.id AND c.kind = 'compensation')
       AND NOT EXISTS (SELECT 1 FROM workflow_step_executions s
                        WHERE s.execution_id = e.id
                          AND (s.status = 'running' OR s.next_attempt_at IS NOT NULL OR s.held_until IS NOT NULL
                               OR s.updated_at > now() - CAST(:#stallMs AS bigint) * interval '1 millisecond'))
     ORDER BY e.id
     LIMIT CAST(:#sweepLimit AS integer)
       FOR UPDATE OF e SKIP LOCKED
), taken_up AS (
    UPDATE workflow_step_executions c
       SET updated_at = now()
      FROM stalled
     WHERE c.execution_id = stalled.id AND c.kind = 'compensation'
)
SELECT id AS execution_id, workflow_id, workflow_version, status FROM stalled
