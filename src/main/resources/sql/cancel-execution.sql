-- Cancels a running execution: nothing more is dispatched; it ends 'cancelled', or starts compensating
-- its completed steps that declare how to undo them. Returns the attempts that were in flight
-- (as the statement found them), whose requests may still wait on their agents' queues.
WITH cancelled AS (
    UPDATE workflow_executions e
       -- a step is undone as it last stood (its latest iteration, when that one completed), as
       -- begin_compensation (V2) creates the compensations and finish_execution (V9) decides
       SET status = CASE WHEN EXISTS (SELECT 1 FROM (SELECT DISTINCT ON (s.step_id) s.status, s.compensation
                                                      FROM workflow_step_executions s
                                                     WHERE s.execution_id = e.id AND s.kind = 'step'
                                                     ORDER BY s.step_id, s.iteration DESC) latest
                                       WHERE latest.status = 'completed' AND latest.compensation IS NOT NULL)
                         THEN 'compensating' ELSE 'cancelled' END,
           completed_at = now(), error = :#reason
     WHERE e.id = :#executionId AND e.status = 'running'
    RETURNING e.id, e.workflow_id, e.workflow_version, e.status
), settled AS (
    UPDATE workflow_step_executions s
       -- a step that had started (running, or waiting for its next attempt or for its locks again, its failed
       -- attempt's error still on the row) fails with the reason; one that never ran is skipped
       SET status = CASE WHEN s.status = 'pending' AND s.next_attempt_at IS NULL AND s.error IS NULL THEN 'skipped' ELSE 'failed' END,
           error = :#reason, completed_at = now(), deadline = NULL, next_attempt_at = NULL, updated_at = now(),
           waiting_for = NULL, waiting_since = NULL   -- a lock wait ends with its step
      FROM cancelled
     WHERE s.execution_id = cancelled.id AND s.status IN ('pending', 'running')
    RETURNING s.step_id, s.kind, s.status, s.error
)
SELECT cancelled.id AS execution_id, cancelled.workflow_id, cancelled.workflow_version, cancelled.status, (SELECT count(*) FROM settled) AS settled_steps,
       -- what onFailure carries, as find-unsent-outcomes.sql computes it: the steps that failed before (this
       -- statement's snapshot) and those the cancel failed
       COALESCE((SELECT jsonb_agg(jsonb_build_object('step_id', f.step_id, 'error', f.error)) FROM (
                    SELECT s.step_id, s.error FROM workflow_step_executions s
                     WHERE s.execution_id = cancelled.id AND s.kind = 'step' AND s.status = 'failed'
                    UNION ALL
                    SELECT step_id, error FROM settled WHERE kind = 'step' AND status = 'failed') f), '[]'::jsonb)::text AS failures,
       -- read with the statement's snapshot, from before its updates (as in expire-executions.sql)
       COALESCE((SELECT jsonb_agg(jsonb_build_object('step_id', s.step_id, 'request', s.id || ':' || s.attempt))
                   FROM workflow_step_executions s
                  WHERE s.execution_id = cancelled.id AND s.kind = 'step' AND s.status = 'running'), '[]'::jsonb)::text AS in_flight
FROM cancelled
