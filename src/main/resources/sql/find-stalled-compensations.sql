-- Executions left compensating with nothing of theirs moving: the statement that moved the execution to
-- 'compensating' (a failure's finish, a cancel, a timeout) committed, but no compensation was dispatched
-- after it (the coordinator stopped in between, or the dispatch failed). Nothing else would ever move
-- them again. stallMs: how long no row of the execution may have changed before it counts as stalled;
-- a compensation in flight (running, or retrying after a backoff) is moving.
SELECT e.id AS execution_id, e.workflow_id, e.workflow_version, e.status
  FROM workflow_executions e
 WHERE e.status = 'compensating'
   AND NOT EXISTS (SELECT 1 FROM workflow_step_executions s
                    WHERE s.execution_id = e.id
                      AND (s.status IN ('running', 'retrying')
                           OR s.updated_at > now() - CAST(:#stallMs AS bigint) * interval '1 millisecond'))
 ORDER BY e.id
 LIMIT CAST(:#sweepLimit AS integer)
