-- Everything a step needs to decide whether and how to run: the trigger, the shared context and the
-- latest iteration of every step of the execution. The signals are read only for steps that ask
-- (withSignals: latest data per type, for from_signal inputs; withSignalList: every signal in order,
-- for requests that carry the execution's context); a CASE branch not taken is never evaluated.
SELECT e.status AS execution_status, e.trigger_payload::text AS trigger_payload,
       e.shared_memory::text AS shared_memory,
       CASE WHEN CAST(:#withSignals AS boolean) THEN
           (SELECT jsonb_object_agg(signal_type, data)::text FROM (
                SELECT DISTINCT ON (signal_type) signal_type, data FROM execution_signals
                 WHERE execution_id = e.id ORDER BY signal_type, id DESC) latest)
       END AS signals,
       CASE WHEN CAST(:#withSignalList AS boolean) THEN
           (SELECT jsonb_agg(jsonb_build_object('from_agent', from_agent, 'signal_type', signal_type, 'data', data)
                             ORDER BY id)::text
              FROM execution_signals WHERE execution_id = e.id)
       END AS signal_list,
       s.id AS row_id, s.step_id, s.status, s.output::text AS output, s.iteration
FROM workflow_executions e
LEFT JOIN LATERAL (
    SELECT DISTINCT ON (step_id) id, step_id, status, output, iteration
    FROM workflow_step_executions
    WHERE execution_id = e.id AND kind = 'step'
    ORDER BY step_id, iteration DESC
) s ON true
WHERE e.id = :#executionId
