-- Attempts past their deadline: retry later if attempts are left, else fail. SKIP LOCKED lets several
-- coordinator instances share the sweep. holdMs > 0 while replies are queued: an attempt whose deadline
-- is younger than the oldest queued reply may have its answer waiting (ReplyBacklog). sweptAtMs: when the
-- sweep chose that hold (the coordinator's clock), so that a statement kept waiting for a connection (a
-- database outage) reaches no further than the sweep could see. An attempt whose execution's deadline is no
-- later than its own is left to the execution's timeout, which settles it with the execution.
UPDATE workflow_step_executions s
   SET status = CASE WHEN s.attempt < s.max_attempts THEN 'pending' ELSE 'failed' END,   -- pending: waiting for its next attempt (V22)
       -- with the broker's refusal of its request, when it never took it (request-unsent.sql noted it)
       error = 'attempt ' || s.attempt || ' timed out after ' || s.timeout_ms || ' ms'
               || COALESCE(': ' || (SELECT a.error FROM step_attempts a
                                     WHERE a.step_execution_id = s.id AND a.attempt = s.attempt AND a.status = 'running'), ''),
       next_attempt_at = CASE WHEN s.attempt < s.max_attempts
                              THEN now() + retry_delay(s.backoff_ms, s.attempt - 1 - s.budget_start, s.backoff_max_ms, s.backoff_jitter) END,
       completed_at = CASE WHEN s.attempt < s.max_attempts THEN NULL ELSE now() END,
       deadline = NULL, updated_at = now()
  FROM (SELECT a.id FROM workflow_step_executions a
         WHERE a.status = 'running' AND a.deadline < LEAST(now(), to_timestamp(CAST(:#sweptAtMs AS double precision) / 1000))
                                        - :#holdMs * interval '1 millisecond'
           -- an execution whose own deadline came first timed out, not the attempt: expire-executions.sql says so
           AND NOT EXISTS (SELECT 1 FROM workflow_executions x
                            WHERE x.id = a.execution_id AND x.status = 'running' AND x.deadline <= a.deadline)
         ORDER BY a.deadline LIMIT CAST(:#sweepLimit AS integer) FOR UPDATE SKIP LOCKED) due,
       workflow_executions e
 WHERE s.id = due.id AND e.id = s.execution_id
RETURNING s.id AS row_id, s.execution_id, s.step_id, s.kind, s.status, s.error,
          s.next_attempt_at IS NOT NULL AS retries_later,
          e.workflow_id, e.workflow_version,
          s.id || ':' || s.attempt AS request   -- the start of the timed-out request's correlation id
