-- The execution's outcome event was sent (outcome_outbox, V18).
DELETE FROM outcome_outbox WHERE execution_id = :#executionId AND status = :#status
