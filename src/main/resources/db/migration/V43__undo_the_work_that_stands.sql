-- What a compensation undoes of a loop's step: its latest iteration whose work stands, not merely its latest that
-- ran. When a later iteration failed (an error reply, a timeout) or was cut off by a cancel or the execution's
-- timeout, the step was read as failed and nothing of it was undone, though the iterations before had completed:
-- the execution ended failed or cancelled with its agents' work in place. A loop that fails when exhausted
-- (loop.fail_when_exhausted) ends on a row that failed with the output its agent reported done: that work stands
-- too, and is read as completed here. A step that runs once has one row, read as before (a failed row has an
-- output only when a loop fails exhausted, fail-step.sql). The statements that read this function (V37) are unchanged.
CREATE OR REPLACE FUNCTION steps_as_they_ran(p_execution_id varchar)
    RETURNS TABLE (id varchar, step_id varchar, iteration integer, status varchar, input jsonb, output jsonb,
                   compensation jsonb) AS $$
    SELECT DISTINCT ON (s.step_id) s.id, s.step_id, s.iteration,
           CASE WHEN s.status = 'failed' AND s.output IS NOT NULL THEN 'completed' ELSE s.status END::varchar,
           s.input, s.output, s.compensation
      FROM workflow_step_executions s
     WHERE s.execution_id = p_execution_id AND s.kind = 'step'
       AND NOT (s.status = 'skipped' OR (s.status = 'pending' AND s.next_attempt_at IS NULL AND s.error IS NULL))
     ORDER BY s.step_id, (s.status = 'completed' OR (s.status = 'failed' AND s.output IS NOT NULL)) DESC, s.iteration DESC
$$ LANGUAGE sql STABLE;
