-- The message already stored under a message id that is not stored again: held by another message
-- (another sender, recipient or type), whose sender is refused; or this same message, a duplicate,
-- dropped, unless it timed out before it was ever delivered (its first send failed), which a repost
-- cannot bring back.
SELECT id, (from_agent <> :#fromAgent OR to_agent <> :#toAgent OR message_type <> :#messageType) AS reused,
       status = 'timed_out' AND delivered_at IS NULL AS expired_undelivered
  FROM agent_messages
 WHERE id = :#messageId
