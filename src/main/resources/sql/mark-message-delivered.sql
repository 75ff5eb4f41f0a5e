UPDATE agent_messages SET status = 'delivered', delivered_at = now() WHERE id = :#messageId AND status = 'pending'
