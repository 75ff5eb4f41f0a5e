-- Completes one loop iteration and starts the next in the same statement, so the execution never
-- looks finished in between; the reply's shared context is merged as in complete-step.sql. The next
-- iteration remembers the reply message that started it (dispatched_by, see find-next-iteration.sql).
-- A loop that holds locks renews them for the new iteration, as a step's next attempt does (V3_1: the
-- lock trigger fires on updates, and the next iteration is an insert). When it no longer holds all of
-- the locks it took (lock_count, V30; the declared number, lockCount, on a row started before) (one was taken by a holder of higher priority, or lapsed and was taken), the
-- next iteration is not started: it waits pending for its locks (waiting_for), and the lock sweep
-- (waiting-lock-steps.sql) runs it through its step route, which takes them again, as a retry's; it keeps the locks its
-- iteration took (waiting_locks), which a newcomer for one of them waits behind (find-lock-waiters.sql).
-- The next iteration gets the step's attempt budget: an execution retry gave the iteration it reset
-- max_attempts counted on from its earlier attempts (budget_start, V20), and the next one starts at 1.
-- Past the execution's deadline (a reply processed late, after a backlog) the next iteration is created pending
-- without a waiting note and not sent: nothing is dispatched past the deadline, the execution's timeout skips it (V39).
WITH done AS (
    UPDATE workflow_step_executions
       SET status = 'completed', output = CAST(:#output AS jsonb), completed_at = now(), deadline = NULL,
           updated_at = now()
     WHERE id = :#rowId AND attempt = :#attempt AND status = 'running'
       AND step_id = :#stepId AND max_attempts = CAST(:#maxAttempts AS integer)   -- as the correlation id names them
       AND (deadline IS NULL OR deadline >= COALESCE(to_timestamp(CAST(:#replyArrivedAt AS bigint) / 1000.0), '-infinity'))
    RETURNING execution_id, step_id, iteration, agent, action, max_attempts, budget_start, timeout_ms, backoff_ms, backoff_max_ms, backoff_jitter,
              compensation, holds_locks, lock_count, waiting_locks, request_context, loop_round_start
), held AS MATERIALIZED (
    -- locked in the order acquirers take them (LockedStepStart), or an acquirer of two of them deadlocks with this (V49)
    SELECT l.resource_type, l.resource_id
      FROM resource_locks l JOIN done ON l.execution_id = done.execution_id AND l.step_id = done.step_id
     WHERE done.holds_locks
     ORDER BY l.resource_type COLLATE "C", l.resource_id COLLATE "C"
       FOR UPDATE OF l
), renewed AS (
    UPDATE resource_locks l
       SET expires_at = now() + l.ttl_ms * interval '1 millisecond'
      FROM held h
     WHERE l.resource_type = h.resource_type AND l.resource_id = h.resource_id
    RETURNING l.resource_id
), next AS (
    SELECT done.*, done.holds_locks
                   AND (SELECT count(*) FROM renewed) < COALESCE(done.lock_count, CAST(:#lockCount AS integer)) AS lost_locks,
           EXISTS (SELECT 1 FROM workflow_executions e WHERE e.id = done.execution_id AND e.deadline <= now()) AS past_deadline
      FROM done
)
INSERT INTO workflow_step_executions (id, execution_id, step_id, iteration, agent, action, status, attempt,
                                      max_attempts, timeout_ms, backoff_ms, backoff_max_ms, backoff_jitter, compensation, input, started_at, deadline,
                                      handled_by, holds_locks, lock_count, waiting_locks, request_context, dispatched_by, waiting_for,
                                      waiting_since, loop_round_start)
SELECT :#nextRowId, execution_id, step_id, iteration + 1, agent, action,
       CASE WHEN lost_locks OR past_deadline THEN 'pending' ELSE 'running' END, CASE WHEN lost_locks OR past_deadline THEN 0 ELSE 1 END,
       max_attempts - budget_start, timeout_ms, backoff_ms, backoff_max_ms, backoff_jitter, compensation, CAST(:#nextInput AS jsonb),
       CASE WHEN lost_locks OR past_deadline THEN NULL ELSE now() END,
       CASE WHEN lost_locks OR past_deadline THEN NULL ELSE capped_deadline(execution_id, 'step', now() + timeout_ms * interval '1 millisecond') END,
       current_setting('application_name'), holds_locks, lock_count, waiting_locks, request_context, CAST(:#causeMessageId AS varchar),
       CASE WHEN lost_locks AND NOT past_deadline THEN 'its locks again, for iteration ' || (iteration + 1) END,
       CASE WHEN lost_locks AND NOT past_deadline THEN now() END, loop_round_start
FROM next, LATERAL (SELECT merge_reply_context(next.execution_id, next.step_id, next.agent,
                                               CAST(:#sharedMemory AS jsonb), CAST(:#signals AS jsonb))) merged
RETURNING iteration, max_attempts, status, deadline, request_context::text AS context, waiting_for
