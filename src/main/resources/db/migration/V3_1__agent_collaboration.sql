-- Agent collaboration: agent-to-agent messages, priority resource locks held by steps, and the
-- context a step request may carry.

-- Messages: where the sender wants the response (its JMSReplyTo) and under which correlation id.
ALTER TABLE agent_messages
    ADD COLUMN reply_to       varchar(255),
    ADD COLUMN correlation_id varchar(255);
CREATE INDEX idx_agent_messages_awaiting ON agent_messages (expires_at)
    WHERE status IN ('pending', 'delivered') AND requires_response;

-- Locks: how long one acquisition lasts (renewed with each new attempt of the holding step), and the
-- holder a preemption replaced (set by the acquiring statement itself, read back by its RETURNING).
ALTER TABLE resource_locks
    ADD COLUMN ttl_ms    bigint NOT NULL DEFAULT 60000,
    ADD COLUMN preempted jsonb;
CREATE INDEX idx_resource_locks_holder ON resource_locks (execution_id, step_id);

-- Every preemption: who held the resource and who took it.
CREATE TABLE lock_events (
    id            bigserial    PRIMARY KEY,
    resource_type varchar(100) NOT NULL,
    resource_id   varchar(255) NOT NULL,
    event         varchar(20)  NOT NULL,       -- preempted
    holder        jsonb        NOT NULL,       -- the holder that lost the lock
    taken_by      jsonb        NOT NULL,       -- the holder that has it now
    created_at    timestamptz  NOT NULL DEFAULT now()
);
CREATE INDEX idx_lock_events_resource ON lock_events (resource_type, resource_id, id);

-- Steps: whether the row holds locks (so settling it releases them), what a step waiting for a lock
-- waits for and since when, and the context its request carries (config.include_context).
ALTER TABLE workflow_step_executions
    ADD COLUMN holds_locks     boolean NOT NULL DEFAULT false,
    ADD COLUMN waiting_for     text,
    ADD COLUMN waiting_since   timestamptz,
    ADD COLUMN request_context jsonb;
CREATE INDEX idx_steps_waiting_for_lock ON workflow_step_executions (waiting_since)
    WHERE status = 'pending' AND waiting_for IS NOT NULL;

-- A step that holds locks releases them whatever settles it (reply, attempt timeout, cancel, execution
-- timeout), and renews them when its next attempt starts. A loop's next iteration (inserted by the same
-- statement that completes the previous one) keeps them. Steps without locks never reach the function.
CREATE FUNCTION settle_step_locks() RETURNS trigger AS $$
BEGIN
    IF NEW.status IN ('completed', 'failed', 'skipped', 'cancelled') THEN
        DELETE FROM resource_locks l
         WHERE l.execution_id = NEW.execution_id AND l.step_id = NEW.step_id
           AND NOT EXISTS (SELECT 1 FROM workflow_step_executions s
                            WHERE s.execution_id = NEW.execution_id AND s.step_id = NEW.step_id AND s.kind = 'step'
                              AND s.id <> NEW.id AND s.status IN ('running', 'retrying'));
    ELSIF NEW.status = 'running' AND NEW.attempt <> OLD.attempt THEN
        UPDATE resource_locks
           SET expires_at = now() + ttl_ms * interval '1 millisecond'
         WHERE execution_id = NEW.execution_id AND step_id = NEW.step_id;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER trg_settle_step_locks
    AFTER UPDATE OF status, attempt ON workflow_step_executions
    FOR EACH ROW WHEN (OLD.holds_locks AND (NEW.status <> OLD.status OR NEW.attempt <> OLD.attempt))
    EXECUTE FUNCTION settle_step_locks();
