-- A sender is told when its message timed out (expire-agent-messages.sql). The sweep's statement commits
-- the timeout before the notice leaves: a stop in between lost the notice for good, as the message no
-- longer matched the sweep. The statement now also sets when the notice is due again (a lease), the
-- send clears it, and the sweep sends every notice whose lease ran out once more.
ALTER TABLE agent_messages ADD COLUMN notice_due_at timestamptz;
CREATE INDEX idx_agent_messages_notice_due ON agent_messages (notice_due_at) WHERE notice_due_at IS NOT NULL;
