-- Steps (and compensations, for the locks of the step they undo) that waited for a lock longer than their timeout
-- fail, naming the lock and its holder.
UPDATE workflow_step_executions s
   SET status = 'failed',
       error = 'waited ' || s.timeout_ms || ' ms (the ' || CASE WHEN s.kind = 'compensation' THEN 'compensation' ELSE 'step' END
               || '''s timeout) for ' || s.waiting_for,
       completed_at = now(), waiting_since = NULL, updated_at = now()
  FROM (SELECT id FROM workflow_step_executions
         WHERE status = 'pending' AND waiting_for IS NOT NULL AND next_attempt_at IS NULL   -- as waiting-lock-steps.sql
           -- holdMs: while replies are queued, the holder's reply that releases the lock may be among them (ReplyBacklog);
           -- sweptAtMs: when that was judged (a statement kept waiting for a connection reaches no further)
           AND waiting_since + timeout_ms * interval '1 millisecond'
               < LEAST(now(), to_timestamp(CAST(:#sweptAtMs AS double precision) / 1000)) - CAST(:#holdMs AS bigint) * interval '1 millisecond'
           -- and tried once more since its time ran out (each try of the lock sweep rewrites the note, and updated_at with
           -- it): that sweep pauses while the broker cannot be reached, and a waiter whose time ran out meanwhile was
           -- failed as soon as the broker was back, before any try (a chaos run: a wait of 22.9 s, 18.4 of them with both
           -- its locks free). A minute past its timeout it fails all the same, tried or not (a version no coordinator
           -- runs any more is tried by none)
           AND (updated_at > waiting_since + timeout_ms * interval '1 millisecond'
                OR waiting_since + timeout_ms * interval '1 millisecond' < now() - interval '60 seconds')
         ORDER BY waiting_since LIMIT CAST(:#sweepLimit AS integer) FOR UPDATE SKIP LOCKED) due,
       workflow_executions e
 WHERE s.id = due.id AND e.id = s.execution_id
RETURNING s.id AS row_id, s.execution_id, s.step_id, s.kind, s.status, s.error, e.workflow_id, e.workflow_version
