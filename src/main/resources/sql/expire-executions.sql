-- Executions past their whole-execution timeout end failed; their unsettled steps are settled with them.
-- holdMs > 0 while replies are queued: they may complete the execution in time (ReplyBacklog). sweptAtMs:
-- when the sweep chose that hold, as in expire-attempts.sql.
WITH expired AS (
    UPDATE workflow_executions e
       -- a step is undone as it last stood (its latest iteration, when that one completed), as
       -- begin_compensation (V2) creates the compensations and finish_execution (V9) decides
       SET status = CASE WHEN EXISTS (SELECT 1 FROM (SELECT DISTINCT ON (s.step_id) s.status, s.compensation
                                                      FROM workflow_step_executions s
                                                     WHERE s.execution_id = e.id AND s.kind = 'step'
                                                     ORDER BY s.step_id, s.iteration DESC) latest
                                       WHERE latest.status = 'completed' AND latest.compensation IS NOT NULL)
                         THEN 'compensating' ELSE 'failed' END,
           completed_at = now(),
           error = 'workflow timed out after ' || (EXTRACT(EPOCH FROM (e.deadline - e.started_at)) * 1000)::bigint || ' ms'
      FROM (SELECT id FROM workflow_executions
             WHERE status = 'running' AND deadline < LEAST(now(), to_timestamp(CAST(:#sweptAtMs AS double precision) / 1000))
                                      - :#holdMs * interval '1 millisecond'
             ORDER BY deadline LIMIT CAST(:#sweepLimit AS integer) FOR UPDATE SKIP LOCKED) due
     WHERE e.id = due.id
    RETURNING e.id, e.workflow_id, e.workflow_version, e.error, e.status
), settled AS (
    UPDATE workflow_step_executions s
       SET status = CASE WHEN s.status = 'pending' AND s.next_attempt_at IS NULL AND s.error IS NULL THEN 'skipped' ELSE 'failed' END,
           error = expired.error, completed_at = now(), deadline = NULL, next_attempt_at = NULL, updated_at = now(),
           waiting_for = NULL, waiting_since = NULL   -- a lock wait ends with its step
      FROM expired
     WHERE s.execution_id = expired.id AND s.status IN ('pending', 'running')
    RETURNING s.execution_id, s.step_id, s.kind, s.status, s.error
)
SELECT expired.id AS execution_id, expired.workflow_id, expired.workflow_version, expired.error, expired.status,
       -- what onFailure carries, as find-unsent-outcomes.sql computes it: the steps that failed before (this
       -- statement's snapshot) and those the timeout failed (not those it skipped)
       COALESCE((SELECT jsonb_agg(jsonb_build_object('step_id', f.step_id, 'error', f.error)) FROM (
                    SELECT s.step_id, s.error FROM workflow_step_executions s
                     WHERE s.execution_id = expired.id AND s.kind = 'step' AND s.status = 'failed'
                    UNION ALL
                    SELECT step_id, error FROM settled
                     WHERE settled.execution_id = expired.id AND kind = 'step' AND status = 'failed') f), '[]'::jsonb)::text AS failures,
       -- the attempts in flight as the statement found them (its snapshot is from before the updates), read per
       -- expired execution: their requests may still be queued
       COALESCE((SELECT jsonb_agg(jsonb_build_object('step_id', s.step_id, 'request', s.id || ':' || s.attempt))
                   FROM workflow_step_executions s
                  WHERE s.execution_id = expired.id AND s.kind = 'step' AND s.status = 'running'), '[]'::jsonb)::text AS in_flight
FROM expired
