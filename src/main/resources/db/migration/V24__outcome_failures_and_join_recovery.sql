-- The failures an outcome event carries, defined once. A compensated (or compensation_failed)
-- execution's onFailure was sent with its failed steps and compensations, {step_id, kind, status,
-- error} each, when its compensations settled, but with its failed steps alone, {step_id, error}, when
-- the outbox sweep or a replay sent it: a chained workflow got whichever came first. Now every path
-- lists the failed steps as {step_id, error}, as finish_execution does, then the failed
-- compensations as {step_id, kind: "compensation", error}.
CREATE FUNCTION outcome_failures(p_execution_id varchar) RETURNS text AS $$
    SELECT COALESCE(jsonb_agg(f.failure ORDER BY f.kind DESC, f.step_id), '[]'::jsonb)::text
      FROM (SELECT s.kind, s.step_id,
                   CASE WHEN s.kind = 'step' THEN jsonb_build_object('step_id', s.step_id, 'error', s.error)
                        ELSE jsonb_build_object('step_id', s.step_id, 'kind', s.kind, 'error', s.error) END AS failure
              FROM workflow_step_executions s
             WHERE s.execution_id = p_execution_id AND s.status = 'failed') f
$$ LANGUAGE sql STABLE;

-- When a join completed: the aggregator's recovery (every coordinator's) takes up only a completed join
-- older than a grace period, so that it does not run the joined step again while the coordinator that
-- completed the join is still running it (its confirm removes the row). JoinRepository reads it.
ALTER TABLE step_joins_completed ADD COLUMN completed_at timestamptz NOT NULL DEFAULT now();
