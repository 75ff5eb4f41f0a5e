-- The reply-backlog hold each coordinator sees (ReplyBacklog), shared with the others on the same database: replies
-- one coordinator's consumers took ahead into their buffers are invisible to another, which would otherwise time out
-- attempts whose replies wait there (two coordinators started together after an outage). Each writes its hold while
-- it has one (reply-backlog-holds.sql); the timeout sweeps hold for the longest written in the last seconds.
CREATE TABLE reply_backlog_holds (
    instance_id varchar(255) PRIMARY KEY,   -- coordinator.instance-id, the application_name of its sessions
    hold_ms     bigint       NOT NULL,
    updated_at  timestamptz  NOT NULL
);
