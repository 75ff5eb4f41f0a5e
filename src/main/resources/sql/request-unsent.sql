-- The send of an attempt's request failed (the broker was lost under it, or refused it). Its lease (V27), if a sweep or
-- an HTTP call started the attempt, is due at once, so that the retry sweep sends it again on its next run (every
-- coordinator.supervisor.period-ms, and only while the broker answers) rather than when the lease would have run out
-- (up to 30 s later); an attempt that no lease covers (a message started it, whose redelivery sends its request again)
-- keeps none. A refusal (refusal: not null; the broker answered) is noted on the attempt's record while it runs, so that
-- its timeout (expire-attempts.sql, on any coordinator) says the broker never took its request, not that no agent
-- answered; request-sent.sql clears it. The step row is locked before the attempt's record, as a transition's trigger does.
WITH running AS (
    SELECT id FROM workflow_step_executions
     WHERE id = :#rowId AND attempt = CAST(:#attempt AS integer) AND status = 'running'
       FOR UPDATE),
     lease AS (
    UPDATE workflow_step_executions s SET request_due_at = now()
      FROM running WHERE s.id = running.id AND s.request_due_at IS NOT NULL
    RETURNING s.id)
UPDATE step_attempts a SET error = CAST(:#refusal AS text)
  FROM running
 WHERE a.step_execution_id = running.id AND a.attempt = CAST(:#attempt AS integer) AND a.status = 'running'
   AND CAST(:#refusal AS text) IS NOT NULL AND a.error IS DISTINCT FROM CAST(:#refusal AS text)
