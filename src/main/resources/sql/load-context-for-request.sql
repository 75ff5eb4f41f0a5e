-- load-context-with-signals.sql plus every signal of the execution in order, for steps whose request
-- carries the execution's context (config.include_context).
SELECT e.status AS execution_status, e.trigger_payload::text AS trigger_payload,
       e.shared_memory::text AS shared_memory,
       (SELECT jsonb_object_agg(signal_type, data)::text FROM (
            SELECT DISTINCT ON (signal_type) signal_type, data FROM execution_signals
             WHERE execution_id = e.id ORDER BY signal_type, id DESC) latest) AS signals,
       (SELECT jsonb_agg(jsonb_build_object('from_agent', from_agent, 'signal_type', signal_type, 'data', data)
                         ORDER BY id)::text
          FROM execution_signals WHERE execution_id = e.id) AS signal_list,
       s.id AS row_id, s.step_id, s.status, s.output::text AS output, s.iteration
FROM workflow_executions e
LEFT JOIN LATERAL (
    SELECT DISTINCT ON (step_id) id, step_id, status, output, iteration
    FROM workflow_step_executions
    WHERE execution_id = e.id AND kind = 'step'
    ORDER BY step_id, iteration DESC
) s ON true
WHERE e.id = :#executionId
