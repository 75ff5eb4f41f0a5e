-- A step attempt or a compensation that a redelivery (or a replay after a broker restart) of the message that started it
-- finds running (find-step-row.sql, find-next-iteration.sql or load-compensations.sql, its row's dispatched_by): the
-- earlier delivery's rollback took its request. The message does not send it: its send would leave with the message's
-- commit (an undo's after the undos planned after it), and a reply that settled the attempt after the message read the
-- row did not stop it. Its lease (V27) is due at once instead: the retry sweep sends it, holding the row until it has
-- left (request-still-due.sql), and only while it still runs that attempt and has time left.
-- neverLeft: the broker flagged this message redelivered, so its earlier delivery rolled back and the request never
-- left. Its row keeps dispatched_by, which tells the retry sweep to send it as a first send, its deadline from that
-- send (start-due-retries.sql, request-still-due.sql); until then its deadline runs from now: a redelivery after an
-- outage longer than the step's (or the undo's) timeout found the attempt past its deadline, and the sweep left it to
-- time out, its agent never having had its request. A replay not so flagged (a broker restart forgets the flag; another
-- message under the same id may have committed the request) clears dispatched_by: its request is sent again with the
-- deadline it had. Only while the row still names this message (re-checked under the row lock): once the sweep sent the
-- request (request-still-due.sql clears dispatched_by) or a replay handed it to the lease, no pass of the message
-- makes it due again, nor moves its deadline.
-- The row is taken first (held), and the time read after (taken): a statement that waited for the row's lock computed
-- its new row, and a clock_timestamp() in it, before the wait, and gave a deadline that had passed as it committed.
WITH held AS MATERIALIZED (
    SELECT id FROM workflow_step_executions
     WHERE id = :#rowId AND attempt = CAST(:#attempt AS integer) AND status = 'running'
       AND dispatched_by = CAST(:#causeMessageId AS varchar)
       FOR UPDATE
), taken AS MATERIALIZED (SELECT id, clock_timestamp() AS at FROM held)
UPDATE workflow_step_executions s
   SET request_due_at = taken.at,
       dispatched_by = CASE WHEN CAST(:#neverLeft AS boolean) THEN s.dispatched_by END,
       deadline = CASE WHEN CAST(:#neverLeft AS boolean)
                       THEN GREATEST(s.deadline, capped_deadline(s.execution_id, s.kind, taken.at + s.timeout_ms * interval '1 millisecond'))
                       ELSE s.deadline END
  FROM taken
 WHERE s.id = taken.id
