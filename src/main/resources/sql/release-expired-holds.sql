-- Held compensations (V47) whose step's attempt cut off by a cancel was not heard from by its deadline: nothing is
-- known done, so nothing is undone (unless an earlier iteration of a loop's step stands). holdMs and sweptAtMs as in
-- expire-attempts.sql: while replies are queued, the attempt's reply may be among them. SKIP LOCKED lets several
-- coordinators share the sweep.
-- A hold left on a compensation that is no longer pending (a coordinator of schema 46 or earlier, which knows no holds,
-- started it) holds nothing: cleared, or the execution would wait for it forever (load-compensations.sql reads it as
-- retrying, find-stalled-compensations.sql as moving), and the stall sweep takes the execution up.
-- The locks kept for such an attempt (V49) lapsed at its deadline (lock_in_force): their rows go too, once the hold
-- for queued replies has passed as well (one still queued could free them by itself); a row locked by an acquirer
-- taking it over is skipped (the acquirer clears cut_off_attempt), and so are the locks of a step whose compensation
-- is still held: release_held_compensation below frees them with the hold (two deletions of one row in one statement
-- would fail it, the order of the two being PostgreSQL's to choose).
WITH lapsed_locks AS MATERIALIZED (
    SELECT l.id
      FROM resource_locks l
     WHERE l.cut_off_attempt IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM workflow_step_executions c
                        WHERE c.execution_id = l.execution_id AND c.step_id = l.step_id AND c.kind = 'compensation'
                          AND c.held_until IS NOT NULL)
       AND l.expires_at < LEAST(now(), to_timestamp(CAST(:#sweptAtMs AS double precision) / 1000)) - :#holdMs * interval '1 millisecond'
     LIMIT CAST(:#sweepLimit AS integer)
       FOR UPDATE SKIP LOCKED
), forgotten AS (
    DELETE FROM resource_locks l USING lapsed_locks x WHERE l.id = x.id
), stale AS (
    UPDATE workflow_step_executions c SET held_until = NULL, updated_at = now()
     WHERE c.held_until IS NOT NULL AND c.status <> 'pending'
), due AS MATERIALIZED (
    SELECT c.id, c.execution_id, c.step_id
      FROM workflow_step_executions c
     WHERE c.held_until IS NOT NULL AND c.status = 'pending'
       AND c.held_until < LEAST(now(), to_timestamp(CAST(:#sweptAtMs AS double precision) / 1000)) - :#holdMs * interval '1 millisecond'
     ORDER BY c.held_until LIMIT CAST(:#sweepLimit AS integer)
       FOR UPDATE SKIP LOCKED
)
SELECT * FROM (
    SELECT due.execution_id, due.step_id, e.workflow_id, e.workflow_version,
           release_held_compensation(due.id, false, NULL, NULL, NULL) AS status
      FROM due JOIN workflow_executions e ON e.id = due.execution_id
) released
WHERE released.status IS NOT NULL
