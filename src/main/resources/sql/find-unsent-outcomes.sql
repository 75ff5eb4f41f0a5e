-- Outcome events left unsent stallMs after their execution settled (outcome_outbox, V18): the
-- coordinator stopped between the settling statement and the send, or the send failed. Taking one up
-- touches it, so that it is taken up again only after another stallMs, whichever coordinator's sweep
-- runs next. A row whose execution has moved on since (a retry made it run again) is dropped: that
-- outcome is no longer the execution's. Columns as find-settled-execution.sql.
WITH due AS (
    SELECT o.execution_id, e.status = o.status AS current
      FROM outcome_outbox o JOIN workflow_executions e ON e.id = o.execution_id
     WHERE o.settled_at < now() - CAST(:#stallMs AS bigint) * interval '1 millisecond'
     ORDER BY o.settled_at
     LIMIT CAST(:#sweepLimit AS integer)
       FOR UPDATE OF o SKIP LOCKED
), moved_on AS (
    DELETE FROM outcome_outbox o USING due WHERE o.execution_id = due.execution_id AND NOT due.current
), taken_up AS (
    UPDATE outcome_outbox o SET settled_at = now() FROM due WHERE o.execution_id = due.execution_id AND due.current
    RETURNING o.execution_id
)
SELECT e.id AS execution_id, e.workflow_id, e.workflow_version, e.status,
       COALESCE(e.result, '{}'::jsonb)::text AS results,
       outcome_failures(e.id) AS failures   -- as every path that sends the event lists them (V24)
  FROM taken_up t JOIN workflow_executions e ON e.id = t.execution_id
