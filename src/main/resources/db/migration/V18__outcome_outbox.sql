-- The onSuccess / onFailure events still to send (a transactional outbox). The statement that settles an
-- execution commits before its event is sent; when the coordinator stops in between, or the send fails,
-- the event was lost on the paths a timer or the API drives (a reply's redelivery sends it again). The
-- row is written by the settling statement itself (this trigger), only when the execution's version
-- declares an event for that outcome, and deleted once the event is sent; a sweep sends what is left.
CREATE TABLE outcome_outbox (
    execution_id  varchar(36)  PRIMARY KEY REFERENCES workflow_executions (id) ON DELETE CASCADE,
    status        varchar(32)  NOT NULL,
    settled_at    timestamptz  NOT NULL DEFAULT now()
);
CREATE INDEX idx_outcome_outbox_settled ON outcome_outbox (settled_at);

CREATE FUNCTION record_outcome_to_send() RETURNS trigger AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM workflow_definitions d
                WHERE d.workflow_id = NEW.workflow_id AND d.version = NEW.workflow_version
                  AND d.definition ->> (CASE WHEN NEW.status = 'completed' THEN 'onSuccess' ELSE 'onFailure' END) IS NOT NULL) THEN
        INSERT INTO outcome_outbox (execution_id, status) VALUES (NEW.id, NEW.status)
        ON CONFLICT (execution_id) DO UPDATE SET status = EXCLUDED.status, settled_at = now();
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER trg_record_outcome_to_send
    AFTER UPDATE OF status ON workflow_executions
    FOR EACH ROW WHEN (NEW.status IN ('completed', 'failed', 'cancelled', 'compensated', 'compensation_failed')
                       AND OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION record_outcome_to_send();
