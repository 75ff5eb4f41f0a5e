UPDATE workflow_step_executions
   SET status = 'skipped', error = :#reason, completed_at = now(), updated_at = now()
 WHERE id = :#rowId AND status = 'pending' AND next_attempt_at IS NULL   -- not one waiting for its next attempt (V22)
