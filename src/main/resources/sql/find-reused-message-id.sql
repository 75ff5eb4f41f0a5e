-- A message id another message holds already (another sender, recipient or type): its sender is refused,
-- where a repeat of the same message is a duplicate, dropped.
SELECT id FROM agent_messages
 WHERE id = :#messageId AND (from_agent <> :#fromAgent OR to_agent <> :#toAgent OR message_type <> :#messageType)
