-- The JMS message that stored an agent message (accepted_by) and the one that recorded its response
-- (responded_by). A delivery that committed its row and then lost its send with its JMS transaction comes
-- back from the broker; after a broker restart without the redelivered flag (Artemis does not keep delivery
-- counts of messages not yet delivered), so it was taken for a sender's duplicate and never delivered. The
-- same JMS message id coming back is a redelivery, whatever the flag says (as dispatched_by for steps, V7).
ALTER TABLE agent_messages ADD COLUMN accepted_by varchar(255), ADD COLUMN responded_by varchar(255);
