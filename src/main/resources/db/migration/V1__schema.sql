-- Agent Coordinator schema. The tables named in CONTRACT.md section 3 keep their contract columns;
-- the rest is what the engine needs to be crash-safe and shared by several coordinator instances.

CREATE TABLE workflow_executions (
    id                varchar(36)  PRIMARY KEY,
    workflow_id       varchar(100) NOT NULL,
    workflow_version  integer      NOT NULL,
    trigger_event_key varchar(255) UNIQUE,          -- idempotency: one execution per event
    trigger_payload   jsonb,
    status            varchar(32)  NOT NULL DEFAULT 'pending',
    result            jsonb,
    error             text,
    started_at        timestamptz,
    completed_at      timestamptz,
    deadline          timestamptz,                  -- whole-execution timeout
    shared_memory     jsonb        NOT NULL DEFAULT '{}'::jsonb,
    created_at        timestamptz  NOT NULL DEFAULT now()
);
CREATE INDEX idx_executions_workflow_status ON workflow_executions (workflow_id, status, created_at DESC);
CREATE INDEX idx_executions_running_deadline ON workflow_executions (deadline) WHERE status = 'running';

-- One row per step and loop iteration (kind 'step'), and per compensation (kind 'compensation').
CREATE TABLE workflow_step_executions (
    id              varchar(36)  PRIMARY KEY,
    execution_id    varchar(36)  NOT NULL REFERENCES workflow_executions (id) ON DELETE CASCADE,
    step_id         varchar(100) NOT NULL,
    iteration       integer      NOT NULL DEFAULT 0,
    kind            varchar(20)  NOT NULL DEFAULT 'step',
    agent           varchar(100) NOT NULL,
    action          varchar(100) NOT NULL,
    status          varchar(32)  NOT NULL DEFAULT 'pending',
    attempt         integer      NOT NULL DEFAULT 0,
    max_attempts    integer      NOT NULL DEFAULT 1,
    timeout_ms      bigint       NOT NULL,          -- bound on one attempt
    backoff_ms      bigint       NOT NULL DEFAULT 500, -- retry delay base, doubled per attempt
    input           jsonb,
    output          jsonb,
    error           text,
    started_at      timestamptz,
    completed_at    timestamptz,
    deadline        timestamptz,                    -- deadline of the attempt in flight
    next_attempt_at timestamptz,                    -- when a 'retrying' step is due again
    updated_at      timestamptz  NOT NULL DEFAULT now(),
    CONSTRAINT uq_step_execution UNIQUE (execution_id, step_id, iteration, kind)
);
CREATE INDEX idx_step_execution ON workflow_step_executions (execution_id, step_id);
CREATE INDEX idx_steps_running_deadline ON workflow_step_executions (deadline) WHERE status = 'running';
CREATE INDEX idx_steps_retry_due ON workflow_step_executions (next_attempt_at) WHERE status = 'retrying';

-- Every attempt of every step, with its own outcome (retries, timeouts).
CREATE TABLE step_attempts (
    step_execution_id varchar(36) NOT NULL REFERENCES workflow_step_executions (id) ON DELETE CASCADE,
    attempt           integer     NOT NULL,
    execution_id      varchar(36) NOT NULL,
    step_id           varchar(100) NOT NULL,
    status            varchar(32) NOT NULL,          -- running | completed | failed | timed_out
    error             text,
    started_at        timestamptz NOT NULL DEFAULT now(),
    completed_at      timestamptz,
    PRIMARY KEY (step_execution_id, attempt)
);
CREATE INDEX idx_attempts_execution ON step_attempts (execution_id);

-- Attempts are recorded by the database itself, whichever path (reply, timeout, retry) moved the step.
CREATE FUNCTION record_step_attempt() RETURNS trigger AS $$
BEGIN
    IF NEW.attempt > 0 AND (TG_OP = 'INSERT' OR NEW.attempt <> OLD.attempt) THEN
        INSERT INTO step_attempts (step_execution_id, attempt, execution_id, step_id, status, started_at)
        VALUES (NEW.id, NEW.attempt, NEW.execution_id, NEW.step_id, 'running', now());
    END IF;
    IF TG_OP = 'UPDATE' AND OLD.status = 'running' AND NEW.status <> 'running' THEN
        UPDATE step_attempts
           SET status = CASE WHEN NEW.status = 'completed' THEN 'completed'
                             WHEN NEW.error LIKE '%timed out%' THEN 'timed_out'
                             ELSE 'failed' END,
               error = NEW.error, completed_at = now()
         WHERE step_execution_id = NEW.id AND attempt = OLD.attempt;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER trg_record_step_attempt
    AFTER INSERT OR UPDATE OF status, attempt ON workflow_step_executions
    FOR EACH ROW EXECUTE FUNCTION record_step_attempt();

-- Every event received, once per event key; repeated deliveries are counted.
CREATE TABLE agent_events (
    id           varchar(36)  PRIMARY KEY,
    event_key    varchar(255) NOT NULL UNIQUE,      -- event_id, else the JMS message id
    type         varchar(200),
    payload      jsonb,
    workflow_id  varchar(100),
    execution_id varchar(36),
    deliveries   integer      NOT NULL DEFAULT 1,
    received_at  timestamptz  NOT NULL DEFAULT now()
);
CREATE INDEX idx_agent_events_type ON agent_events (type, received_at DESC);

-- Replies that arrived for a step no longer waiting for them (late, duplicate, unknown).
CREATE TABLE ignored_replies (
    id             bigserial    PRIMARY KEY,
    correlation_id varchar(255),
    execution_id   varchar(36),
    step_id        varchar(100),
    reason         text         NOT NULL,
    body           text,
    received_at    timestamptz  NOT NULL DEFAULT now()
);

-- Signals for downstream agents (spec: Shared Context Pattern).
CREATE TABLE execution_signals (
    id           bigserial    PRIMARY KEY,
    execution_id varchar(36)  NOT NULL REFERENCES workflow_executions (id) ON DELETE CASCADE,
    step_id      varchar(100),
    from_agent   varchar(100),
    signal_type  varchar(200) NOT NULL,
    data         jsonb,
    created_at   timestamptz  NOT NULL DEFAULT now()
);
CREATE INDEX idx_signals_execution ON execution_signals (execution_id, signal_type, id);

-- Inter-agent messages (spec: Message Passing).
CREATE TABLE agent_messages (
    id                varchar(36)  PRIMARY KEY,
    from_agent        varchar(100) NOT NULL,
    to_agent          varchar(100) NOT NULL,
    message_type      varchar(200) NOT NULL,
    payload           jsonb,
    requires_response boolean      NOT NULL DEFAULT false,
    status            varchar(20)  NOT NULL DEFAULT 'pending',
    response          jsonb,
    execution_id      varchar(36),
    created_at        timestamptz  NOT NULL DEFAULT now(),
    delivered_at      timestamptz,
    responded_at      timestamptz,
    expires_at        timestamptz
);

-- Resource locks (spec: Conflict Resolution). One holder per resource, decided by the primary key.
CREATE TABLE resource_locks (
    resource_type varchar(100) NOT NULL,
    resource_id   varchar(255) NOT NULL,
    id            varchar(36)  NOT NULL UNIQUE,
    locked_by     varchar(100) NOT NULL,
    priority      integer      NOT NULL,
    execution_id  varchar(36),
    step_id       varchar(100),
    locked_at     timestamptz  NOT NULL DEFAULT now(),
    expires_at    timestamptz  NOT NULL,
    PRIMARY KEY (resource_type, resource_id)
);

-- Camel JdbcAggregationRepository for fan-in joins (bytea, not the docs' blob).
CREATE TABLE step_joins (
    id       varchar(255) PRIMARY KEY,
    exchange bytea        NOT NULL,
    version  bigint       NOT NULL
);
CREATE TABLE step_joins_completed (
    id       varchar(255) PRIMARY KEY,
    exchange bytea        NOT NULL,
    version  bigint       NOT NULL
);
