-- A step attempt that a redelivery (or a replay after a broker restart) of the message that started it finds running
-- (find-step-row.sql or find-next-iteration.sql, its row's dispatched_by): the earlier delivery's rollback took its
-- request. The message does not send it: its send would leave with the message's commit, and a reply that settled the
-- attempt after the message read the row did not stop it. Its lease (V27) is due at once instead: the retry sweep sends
-- it, holding the row until it has left (request-still-due.sql), and only while it still runs that attempt and has time
-- left.
UPDATE workflow_step_executions SET request_due_at = clock_timestamp()
 WHERE id = :#rowId AND attempt = CAST(:#attempt AS integer) AND status = 'running' AND kind = 'step'
