-- The outcome whose onSuccess / onFailure event the execution has yet to send (outcome_outbox, V18), if any.
-- One column: camel-sql hands over the value itself, not a row.
SELECT status FROM outcome_outbox WHERE execution_id = :#executionId
