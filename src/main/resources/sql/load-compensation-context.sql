-- What a compensation's input_mapping reads (CompensationPlanner): the trigger, and of each step its latest
-- iteration that ran (steps_as_they_ran, V37), in the columns of execution_context (load-context.sql). A step of
-- a loop over several steps whose latest iteration never ran (a cancel skipped it) is read as it completed in the
-- iteration before, which is the one its compensation undoes (load-compensations.sql). Compensations read no
-- shared memory or signals.
SELECT e.status::text AS execution_status, e.trigger_payload::text AS trigger_payload, NULL::text AS shared_memory,
       NULL::text AS signals, NULL::text AS signal_list, s.id::text AS row_id, s.step_id::text AS step_id,
       s.status::text AS status, s.output::text AS output, s.iteration
FROM workflow_executions e
LEFT JOIN steps_as_they_ran(e.id) s ON true
WHERE e.id = :#executionId
