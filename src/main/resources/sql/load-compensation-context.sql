-- What a compensation's input_mapping reads (CompensationPlanner): the trigger, and of each step its latest
-- iteration that ran (ran_in_its_iteration, V37), in the columns of execution_context (load-context.sql). A step of
-- a loop over several steps whose latest iteration never ran (a cancel skipped it) is read as it completed in the
-- iteration before, which is the one its compensation undoes (load-compensations.sql). Compensations read no
-- shared memory or signals.
SELECT e.status::text AS execution_status, e.trigger_payload::text AS trigger_payload, NULL::text AS shared_memory,
       NULL::text AS signals, NULL::text AS signal_list, s.id::text AS row_id, s.step_id::text AS step_id,
       s.status::text AS status, s.output::text AS output, s.iteration
FROM workflow_executions e
LEFT JOIN LATERAL (
    SELECT DISTINCT ON (step_id) id, step_id, status, output, iteration
      FROM workflow_step_executions
     WHERE execution_id = e.id AND kind = 'step' AND ran_in_its_iteration(status, next_attempt_at, error)
     ORDER BY step_id, iteration DESC
) s ON true
WHERE e.id = :#executionId
