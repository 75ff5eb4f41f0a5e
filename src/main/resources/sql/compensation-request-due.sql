-- A compensation that a redelivery of the message that started it finds running (load-compensations.sql, its row's
-- dispatched_by): the earlier delivery's rollback took its request. The redelivery does not send it: its send would
-- leave with the message's commit, after the undos planned after it, and a reply that settled the compensation in
-- between did not stop it. Its lease (V27) is due at once instead: the retry sweep sends it, holding the row until it
-- has left (request-still-due.sql), and only while it still runs that attempt and has time left.
UPDATE workflow_step_executions SET request_due_at = clock_timestamp()
 WHERE id = :#rowId AND attempt = CAST(:#attempt AS integer) AND status = 'running' AND kind = 'compensation'
