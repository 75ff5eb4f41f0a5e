-- Retry of a failed or cancelled execution (a cancelled one goes on where the cancel stopped it; one whose
-- completed steps a compensation undid is compensated, not cancelled, and is not retried): failed and
-- skipped steps go back to pending; completed steps keep their
-- results and are not run again. Every skipped step is reset, not only those whose own dependency
-- failed: their dependents were skipped as "branch not taken", a workflow timeout skipped pending steps
-- with its own error, and a condition may read a step that now runs again. The retry route pushes each
-- reset step through its step route, so a step whose reason to skip still holds is skipped again.
-- A reset step keeps its attempt number (mark-running continues from it), so step_attempts keeps the
-- earlier attempts and a late reply to one of them cannot be taken for the new attempt; its budget is
-- the step's attempts once more, and its backoff doubles from the budget's first attempt (budget_start, V20).
-- A reset row's iteration starts its loop's iterations anew (loop_round_start, V51): the loop gets its
-- max_iterations again from there, as a step gets its attempts again (a row that is no loop's has iteration 0).
-- The execution counts its retries (V21): its next failure's outcome event is a new one. Its timeout
-- runs from the retry (retried_at, V23). An execution that failed with every step completed (its
-- timeout passed as the last one completed) has nothing to run again, and stays failed.
WITH reopened AS (
    UPDATE workflow_executions e
       SET status = 'running', completed_at = NULL, error = NULL, result = NULL, retries = retries + 1,
           deadline = now() + :#timeoutMs * interval '1 millisecond', retried_at = now()
     WHERE e.id = :#executionId AND e.status IN ('failed', 'cancelled')
       -- not while its outcome event is unsent (outcome_outbox, V18): that event is numbered from the retries
       -- when it is published, and a retry followed by another failure or cancel before then gave both outcomes one id
       AND NOT EXISTS (SELECT 1 FROM outcome_outbox o WHERE o.execution_id = e.id)
       AND EXISTS (SELECT 1 FROM (SELECT DISTINCT ON (f.step_id) f.status FROM workflow_step_executions f
                                   WHERE f.execution_id = e.id AND f.kind = 'step'
                                   ORDER BY f.step_id, f.iteration DESC) latest
                    WHERE latest.status IN ('failed', 'skipped'))
    RETURNING e.id
)
UPDATE workflow_step_executions s
   SET status = 'pending', error = NULL, output = NULL, started_at = NULL, completed_at = NULL,
       deadline = NULL, next_attempt_at = NULL, updated_at = now(), budget_start = s.attempt,
       waiting_for = NULL, waiting_since = NULL,   -- a lock wait starts again, timed from now
       request_due_at = NULL,   -- the lease of an earlier attempt's request (V27): its start sets its own
       loop_round_start = NULLIF(s.iteration, 0),
       max_attempts = s.attempt + COALESCE((CAST(:#attemptBudgets AS jsonb) ->> s.step_id)::int, s.max_attempts)
  FROM reopened
 WHERE s.execution_id = reopened.id AND s.kind = 'step'
   AND s.status IN ('failed', 'skipped')
   AND NOT EXISTS (SELECT 1 FROM workflow_step_executions later
                    WHERE later.execution_id = s.execution_id AND later.kind = 'step' AND later.step_id = s.step_id
                      AND later.iteration > s.iteration)
RETURNING s.step_id
