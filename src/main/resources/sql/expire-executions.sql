-- Executions past their whole-execution timeout end failed; their unsettled steps are settled with them.
-- holdMs > 0 while replies are queued: they may complete the execution in time (ReplyBacklog). sweptAtMs:
-- when the sweep chose that hold, as in expire-attempts.sql. The function (V23) decides once the
-- transitions in flight on the executions' steps have committed.
SELECT execution_id, workflow_id, workflow_version, error, status, failures, in_flight
  FROM expire_executions(CAST(:#sweptAtMs AS double precision), CAST(:#holdMs AS bigint), CAST(:#sweepLimit AS integer))
