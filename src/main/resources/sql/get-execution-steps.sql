-- next_attempt_at: when a pending step waiting for its next attempt (its last one failed or timed out) is due;
-- waiting_for / waiting_since: what a pending step waits for (its locks' holder, or a held compensation its step's reply)
-- and since when
SELECT step_id, iteration, kind, agent, action, status, attempt, max_attempts,
       CASE WHEN CAST(:#withOutputs AS boolean) THEN input::text END AS input,   -- ?outputs=false: not read
       CASE WHEN CAST(:#withOutputs AS boolean) THEN output::text END AS output, error, started_at, completed_at, deadline, next_attempt_at,
       CASE WHEN held_until IS NOT NULL   -- a compensation held for the attempt a cancel cut off (V47)
            THEN 'the reply of step ' || step_id || '''s attempt the cancel cut off, until its deadline ' || utc_time(held_until)
            WHEN status = 'pending' THEN waiting_for END AS waiting_for,   -- a failed wait keeps its note on the row, not here
       CASE WHEN status = 'pending' THEN waiting_since END AS waiting_since,
       CASE WHEN CAST(:#withOutputs AS boolean) THEN progress::text END AS progress
FROM workflow_step_executions WHERE execution_id = :#executionId
ORDER BY kind DESC, started_at NULLS LAST, step_id, iteration
