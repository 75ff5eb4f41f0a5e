-- This coordinator's reply-backlog hold, written when it has one to share (publish), and the longest hold another
-- coordinator wrote in the last 10 seconds (ReplyBacklog). Rows of coordinators gone for a day are dropped.
-- The instance is the session's application_name (coordinator.instance-id).
WITH written AS (
    INSERT INTO reply_backlog_holds AS h (instance_id, hold_ms, updated_at)
    SELECT current_setting('application_name'), CAST(:#holdMs AS bigint), now()
     WHERE CAST(:#publish AS boolean)
    ON CONFLICT (instance_id) DO UPDATE SET hold_ms = EXCLUDED.hold_ms, updated_at = EXCLUDED.updated_at
), forgotten AS (
    DELETE FROM reply_backlog_holds WHERE updated_at < now() - interval '1 day'
)
SELECT COALESCE(max(hold_ms), 0) AS others_hold_ms
  FROM reply_backlog_holds
 WHERE instance_id <> current_setting('application_name') AND updated_at > now() - interval '10 seconds'
