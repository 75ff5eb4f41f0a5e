-- JDBC: the steps (and compensations) waiting for a lock on one resource, other than the row that asks: a step on its first
-- try yields to those of higher priority (and of equal priority, waiting already), the lock sweep's try to those of higher
-- priority, so that the highest waiter gets the lock (LockRoutes) rather than a newcomer taking it between two sweeps, or
-- a lower waiter within one (LockedStepStart). Not when the asker holds that lock already (a renewal: a loop's next
-- iteration, an undo taking over the lock kept for the attempt a cancel cut off).
-- A waiter of any of its locks (waiting_locks, V53), not only of the first that blocked it: a step waiting for two, blocked
-- on one, would otherwise lose the other to a newcomer it then preempts. A step requeued to take its locks again ("its
-- locks again, …": a retry, a loop's next iteration) waits for the locks it last took (mark-running-with-locks.sql keeps
-- them) before its first try notes them. A row noted by an earlier release has no waiting_locks: its note names the first
-- lock it waits for (AcquireResult.Blocked.describe: "lock <type>/<id> held by …", "… (holder just released it)",
-- LockedStepStart's "… waited for first by …"), matched whole up to its words (a resource id may hold a space: a waiter of
-- roadmap/"u x" is no waiter of roadmap/"u").
-- As waiting-lock-steps.sql: only waiters the sweep tries, and of those only the ones whose version a live coordinator runs
-- (workflow_definition_runners, as WorkflowVersions tells them) or tried lately (each try rewrites updated_at; behind a
-- pooler that hides the coordinators' sessions, or a version a coordinator keeps for its executions): a waiter no
-- coordinator tries would otherwise hold every lower one back until it fails, its timeout and a minute later, the resource
-- free all along. Not by the last try alone: the lock sweep pauses while the broker cannot be reached, and every waiter
-- would then age out.
-- Only waiters of at least the priority the asker yields to (the agents' configured priorities, unlisted ones 0); one is
-- enough: the one waiting longest, as when this statement read every waiter in idx_steps_waiting_for_lock's order.
-- Only the waiters of the asked resource are read (idx_steps_waiting_for_locks, V55), whatever the waiters of others. The
-- pending status is asked inside the indexed expression (a waiter's locks; [false] for a note without them), in both arms
-- and not beside them: the planner, which counts status = 'pending' and waiting_for IS NOT NULL as independent, reckons a
-- handful of waiters in all and would otherwise read every waiter through idx_steps_waiting_for_lock (0.2 to 1 ms at 1,000).
-- Parameters: resource type, resource id, the priorities ({"agent": priority, ...}), the lowest priority yielded to, how
-- lately a waiter must have been tried (ms), the asking row's id, execution, step.
WITH asked AS (SELECT t AS resource_type, i AS resource_id, 'lock ' || t || '/' || i AS note,   -- as a waiter's note names it
                      jsonb_build_array(jsonb_build_array(t, i)) AS lock,   -- as waiting_locks holds it
                      priorities, yield_to, tried_within_ms
                 FROM (VALUES (CAST(? AS text), CAST(? AS text), CAST(? AS jsonb), CAST(? AS bigint), CAST(? AS bigint)))
                      given (t, i, priorities, yield_to, tried_within_ms))
SELECT s.agent, s.execution_id, s.step_id
FROM asked a,
     -- the candidates sorted before their executions are read: the first that passes ends the statement
     LATERAL (SELECT s.id, s.agent, s.execution_id, s.step_id, s.kind, s.updated_at, s.waiting_since
                FROM workflow_step_executions s
               WHERE s.waiting_for IS NOT NULL AND s.next_attempt_at IS NULL
                 AND COALESCE(CAST(a.priorities ->> s.agent AS integer), 0) >= a.yield_to
                 -- a pending row (in both arms: see above); @> only finds the candidates in the index, each pair then
                 -- compared element by element: jsonb's @> ignores the order within an array ([["doc","x"]] @> [["doc","doc"]]);
                 -- only with a note of a lock wait or of a requeued step (the locks of another note, of a retry of an earlier
                 -- release, may be of a wait before, which it no longer asks for: its next try writes them again)
                 AND ((CASE WHEN s.status = 'pending' THEN COALESCE(s.waiting_locks, '[false]') END) @> a.lock
                      AND (starts_with(s.waiting_for, 'lock') OR starts_with(s.waiting_for, 'its locks again'))
                      AND EXISTS (SELECT 1 FROM jsonb_array_elements(s.waiting_locks) w
                                   WHERE w->>0 = a.resource_type AND w->>1 = a.resource_id)
                      OR (CASE WHEN s.status = 'pending' THEN COALESCE(s.waiting_locks, '[false]') END) @> '[false]'
                         AND s.waiting_locks IS NULL
                         AND (starts_with(s.waiting_for, a.note || ' held by ')
                              OR starts_with(s.waiting_for, a.note || ' waited for first by ')
                              OR s.waiting_for = a.note || ' (holder just released it)'))
                 AND s.id <> ?
               ORDER BY s.waiting_since, s.id) s
JOIN workflow_executions e ON e.id = s.execution_id
                          AND (e.status = 'running' OR (e.status = 'compensating' AND s.kind = 'compensation'))
WHERE (s.updated_at > now() - a.tried_within_ms * interval '1 millisecond'
       OR EXISTS (SELECT 1 FROM workflow_definition_runners r
                   WHERE r.workflow_id = e.workflow_id AND r.version = e.workflow_version
                     AND EXISTS (SELECT 1 FROM pg_stat_activity p WHERE p.application_name = r.instance_id)))
  AND NOT EXISTS (SELECT 1 FROM resource_locks l WHERE l.resource_type = a.resource_type AND l.resource_id = a.resource_id
                                                   AND l.execution_id = ? AND l.step_id = ?)
ORDER BY s.waiting_since, s.id
LIMIT 1
