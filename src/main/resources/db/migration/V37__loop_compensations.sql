-- A loop over several steps (loop.repeat_from) creates the rows of its next iteration for each of its steps when
-- the loop step's iteration completes, so a step of the loop whose latest iteration never ran (skipped: by a cancel,
-- by the execution's timeout, after a failure earlier in that iteration, or by its condition) may have completed in
-- an earlier iteration, and what it did then stands. A compensation undoes each step's latest iteration that ran
-- (steps_as_they_ran) when that one completed, with its input and output (load-compensations.sql): it was its
-- latest row, which left such a step undone (the execution ended cancelled or failed, not compensated). So for a loop of
-- one step whose next iteration waits pending for its locks again (complete-and-iterate.sql) when a cancel skips it:
-- its iteration before is undone now. A step that runs once is as before: its latest row that ran is its latest row.

-- Each step of an execution as its latest iteration that ran left it: not skipped, nor pending without having started
-- (a cancel or the execution's timeout skips such a row, V23: status_when_stopped reads the rows from before that
-- settles them, begin_compensation after). One definition for what a compensation undoes and reads: here, in
-- load-compensations.sql and load-compensation-context.sql. A plain SQL function, which the planner inlines.
CREATE FUNCTION steps_as_they_ran(p_execution_id varchar)
    RETURNS TABLE (id varchar, step_id varchar, iteration integer, status varchar, input jsonb, output jsonb,
                   compensation jsonb) AS $$
    SELECT DISTINCT ON (s.step_id) s.id, s.step_id, s.iteration, s.status, s.input, s.output, s.compensation
      FROM workflow_step_executions s
     WHERE s.execution_id = p_execution_id AND s.kind = 'step'
       AND NOT (s.status = 'skipped' OR (s.status = 'pending' AND s.next_attempt_at IS NULL AND s.error IS NULL))
     ORDER BY s.step_id, s.iteration DESC
$$ LANGUAGE sql STABLE;

CREATE OR REPLACE FUNCTION begin_compensation() RETURNS trigger AS $$
BEGIN
    INSERT INTO workflow_step_executions (id, execution_id, step_id, iteration, kind, agent, action,
                                          max_attempts, timeout_ms, backoff_ms)
    SELECT gen_random_uuid()::text, NEW.id, s.step_id, 0, 'compensation',
           s.compensation->>'agent', s.compensation->>'action', (s.compensation->>'max_attempts')::int,
           (s.compensation->>'timeout_ms')::bigint, (s.compensation->>'backoff_ms')::bigint
      FROM steps_as_they_ran(NEW.id) s
     WHERE s.status = 'completed' AND s.compensation IS NOT NULL
    ON CONFLICT (execution_id, step_id, iteration, kind) DO NOTHING;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION status_when_stopped(p_execution_id varchar, p_otherwise varchar) RETURNS varchar AS $$
    SELECT CASE WHEN EXISTS (SELECT 1 FROM steps_as_they_ran(p_execution_id) ran
                              WHERE ran.status = 'completed' AND ran.compensation IS NOT NULL)
                THEN 'compensating' ELSE p_otherwise END
$$ LANGUAGE sql STABLE;

-- finish_execution (V32): compensating when a step's latest iteration that ran completed and declares a compensation.
-- That second look at the rows is taken only for an execution that did not succeed (a subquery inside the CASE), so
-- the finish of a successful one, on every execution's path, reads its rows once as before.
CREATE OR REPLACE FUNCTION finish_execution(p_execution_id varchar, p_partial_success boolean, p_tolerated jsonb)
    RETURNS TABLE (status text, workflow_id text, results text, failures text) AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    WITH latest AS (
        SELECT DISTINCT ON (step_id) step_id, status, output, error, started_at, completed_at
        FROM workflow_step_executions
        WHERE execution_id = p_execution_id AND kind = 'step'
        ORDER BY step_id, iteration DESC
    ), verdict AS (
        SELECT NOT EXISTS (
                   SELECT 1 FROM latest
                   WHERE status = 'failed'
                     AND NOT (p_partial_success AND step_id IN (SELECT jsonb_array_elements_text(p_tolerated)))
               ) AS success,
               (SELECT jsonb_object_agg(step_id, step_result(step_id, status, output, error, started_at, completed_at))
                  FROM latest) AS results,
               (SELECT jsonb_agg(step_result(step_id, status, output, error, started_at, completed_at) ORDER BY step_id)
                  FROM latest WHERE status = 'failed') AS failures
    )
    UPDATE workflow_executions e
       SET status = CASE WHEN v.success THEN 'completed'
                         WHEN EXISTS (SELECT 1 FROM steps_as_they_ran(p_execution_id) ran
                                       WHERE ran.status = 'completed' AND ran.compensation IS NOT NULL) THEN 'compensating'
                         ELSE 'failed' END,
           result = COALESCE(v.results, '{}'::jsonb),
           error = CASE WHEN v.success THEN NULL
                        ELSE 'failed steps: ' || (SELECT string_agg(f->>'step_id', ', ') FROM jsonb_array_elements(v.failures) f) END,
           completed_at = now()
      FROM verdict v
     WHERE e.id = p_execution_id AND e.status = 'running'
       AND NOT EXISTS (SELECT 1 FROM workflow_step_executions s
                       WHERE s.execution_id = e.id AND s.status IN ('pending', 'running', 'retrying'))
    RETURNING e.status::text, e.workflow_id::text, COALESCE(v.results, '{}'::jsonb)::text,
              COALESCE(v.failures, '[]'::jsonb)::text;
END;
$$ LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan;
