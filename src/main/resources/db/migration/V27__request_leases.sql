-- An attempt that a sweep or an HTTP call started has no message whose redelivery sends its request again:
-- a stop, or a failed send, between the statement that started it and the send left it running with no
-- agent asked until its deadline passed (and failed the step, when it was the last attempt). The
-- statements that start such attempts now also set when their request is due again (a lease, as V26 does
-- for timeout notices), the send clears it (request-sent.sql), and the retry sweep (start-due-retries.sql)
-- sends the request of a running attempt whose lease ran out once more. An attempt that a message started
-- has none: that message's redelivery re-sends its request (see AgentStepMapper.resendApplies).
ALTER TABLE workflow_step_executions ADD COLUMN request_due_at timestamptz;
