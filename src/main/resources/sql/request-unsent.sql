-- The send of the request of an attempt that a sweep or an HTTP call started failed (the broker was lost under it,
-- or refused it): its lease (V27) is due at once, so that the retry sweep sends it again on its next run (every
-- coordinator.supervisor.period-ms, and only while the broker answers) rather than when the lease would have run out
-- (up to 30 s later). Only the attempt whose send failed, while it runs; an attempt that no lease covers (a message
-- started it, whose redelivery sends its request again) is not one.
UPDATE workflow_step_executions SET request_due_at = now()
 WHERE id = :#rowId AND attempt = CAST(:#attempt AS integer) AND status = 'running' AND request_due_at IS NOT NULL
