-- The JMS message whose transaction sent a running attempt's request (its JMSMessageID; NULL when a
-- timer started the attempt). A delivery of that same message that finds the attempt running knows
-- its earlier delivery died before committing, taking the request with it, and sends it again; the
-- broker's redelivered flag cannot tell, as it does not survive a broker restart.
ALTER TABLE workflow_step_executions ADD COLUMN dispatched_by varchar(255);
