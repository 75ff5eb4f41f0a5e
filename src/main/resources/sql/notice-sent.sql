-- The timeout notice of a message left for its sender: no lease to send it again (expire-agent-messages.sql).
UPDATE agent_messages SET notice_due_at = NULL WHERE id = :#messageId
