-- Partial joins whose step was already decided (the join completed through another arrival). Camel's
-- JdbcAggregationRepository removes a completed join without checking the version it read, so when
-- two branches of a fan-in settle at the same moment one of them can store an aggregate that no
-- arrival will ever complete; it holds nothing anyone waits for.
DELETE FROM step_joins j
 USING workflow_step_executions s
 WHERE s.execution_id = split_part(j.id, ':', 1)
   AND s.step_id = split_part(j.id, ':', 2)
   AND s.kind = 'step' AND s.iteration = 0
   AND (s.status <> 'pending' OR s.next_attempt_at IS NOT NULL)   -- started, and waiting for its next attempt
