-- A heartbeat ({"status": "running"} from the agent working on the attempt): the attempt's deadline
-- moves to the step's timeout from when the heartbeat reached the broker (replyArrivedAt; now when not known: a
-- heartbeat read late, after a backlog, extends no further than one read at once), so config.timeout_ms bounds the time between signs of life,
-- not the whole attempt. Only the attempt in flight moves; the execution's own deadline stays. The
-- step's resource locks are renewed as when an attempt starts (V3_1): a holder that shows signs of
-- life keeps them past their ttl_ms. A heartbeat's "progress" (JSON text, or NULL) replaces what the
-- step row kept (V19); one without keeps it.
WITH extended AS (
    UPDATE workflow_step_executions
       SET deadline = capped_deadline(execution_id, kind,
                                      COALESCE(to_timestamp(CAST(:#replyArrivedAt AS bigint) / 1000.0), now()) + timeout_ms * interval '1 millisecond'),
           updated_at = now(),
           progress = COALESCE(CAST(:#progress AS jsonb), progress)
     WHERE id = :#rowId AND attempt = :#replyAttempt AND status = 'running'
       AND (deadline IS NULL OR deadline >= COALESCE(to_timestamp(CAST(:#replyArrivedAt AS bigint) / 1000.0), '-infinity'))
    RETURNING execution_id, step_id, deadline, holds_locks
), held AS MATERIALIZED (
    -- locked in the order acquirers take them (LockedStepStart), or an acquirer of two of them deadlocks with this (V49)
    SELECT l.resource_type, l.resource_id
      FROM resource_locks l JOIN extended e ON l.execution_id = e.execution_id AND l.step_id = e.step_id
     WHERE e.holds_locks
     ORDER BY l.resource_type COLLATE "C", l.resource_id COLLATE "C"
       FOR UPDATE OF l
), renewed AS (
    UPDATE resource_locks l
       SET expires_at = now() + l.ttl_ms * interval '1 millisecond'
      FROM held h
     WHERE l.resource_type = h.resource_type AND l.resource_id = h.resource_id
)
-- workflow_id: for the heartbeat meter of an attempt whose correlation id names no workflow (a loop's, a compensation's)
SELECT execution_id, step_id, deadline,
       (SELECT w.workflow_id FROM workflow_executions w WHERE w.id = extended.execution_id) AS workflow_id
  FROM extended
