-- A loop over several steps (loop.repeat_from): completes the loop step's iteration and starts the next one in
-- the same statement, as complete-and-iterate.sql does for a loop of the step alone, so the execution never
-- looks finished in between. Every step the loop runs (iterationSteps, a JSON list of step ids) gets a row for
-- the next iteration: the step it repeats from (repeatFrom) running at once, with the input of its latest
-- iteration and the feedback over it (nextInput: the feedback keys and previous_iteration_output), remembering
-- the reply message that started it (dispatched_by, see find-next-iteration.sql); the others pending and
-- without input, each started by its step route once its dependencies in this iteration completed, with the
-- input its mapping builds from the latest iterations. Each new row takes its step's settings from its latest
-- row, and its full attempt budget again (budget_start, V20). A first step that declares locks (firstTakesLocks) is
-- created pending too, with its input, and goes through its step route at once, which takes its locks (or waits for
-- them) as for any start: a step of such a loop holds its locks for each iteration's run, not across iterations.
-- The statement returns the first step's new row, running or pending. Past the execution's deadline (a reply
-- processed late, after a backlog) the first step is created pending too, and not sent: nothing is dispatched past
-- the deadline, the execution's timeout skips the new rows (V39).
WITH done AS (
    UPDATE workflow_step_executions
       SET status = 'completed', output = CAST(:#output AS jsonb), completed_at = now(), deadline = NULL,
           updated_at = now()
     WHERE id = :#rowId AND attempt = :#attempt AND status = 'running'
       AND step_id = :#stepId AND max_attempts = CAST(:#maxAttempts AS integer)   -- as the correlation id names them
       AND (deadline IS NULL OR deadline >= COALESCE(to_timestamp(CAST(:#replyArrivedAt AS bigint) / 1000.0), '-infinity'))
    RETURNING execution_id, step_id, iteration, agent, loop_round_start
), merged AS (
    SELECT merge_reply_context(done.execution_id, done.step_id, done.agent,
                               CAST(:#sharedMemory AS jsonb), CAST(:#signals AS jsonb)) AS context
      FROM done
), past AS (
    SELECT EXISTS (SELECT 1 FROM workflow_executions e, done WHERE e.id = done.execution_id AND e.deadline <= now()) AS deadline
), latest AS (
    SELECT DISTINCT ON (s.step_id) s.step_id, s.agent, s.action, s.max_attempts, s.budget_start, s.timeout_ms,
                                   s.backoff_ms, s.backoff_max_ms, s.backoff_jitter, s.compensation, s.input, s.request_context,
                                   s.step_id = CAST(:#repeatFrom AS varchar) AS first,
                                   s.step_id = CAST(:#repeatFrom AS varchar) AND NOT CAST(:#firstTakesLocks AS boolean)
                                       AND NOT past.deadline AS runs
      FROM workflow_step_executions s, done, past
     WHERE s.execution_id = done.execution_id AND s.kind = 'step'
       AND s.step_id IN (SELECT jsonb_array_elements_text(CAST(:#iterationSteps AS jsonb)))
     ORDER BY s.step_id, s.iteration DESC
), started AS (
    INSERT INTO workflow_step_executions (id, execution_id, step_id, iteration, agent, action, status, attempt,
                                          max_attempts, timeout_ms, backoff_ms, backoff_max_ms, backoff_jitter, compensation, input, started_at,
                                          deadline, handled_by, request_context, dispatched_by, loop_round_start)
    SELECT CASE WHEN l.first THEN CAST(:#nextRowId AS varchar) ELSE gen_random_uuid()::text END,
           done.execution_id, l.step_id, done.iteration + 1, l.agent, l.action,
           CASE WHEN l.runs THEN 'running' ELSE 'pending' END, CASE WHEN l.runs THEN 1 ELSE 0 END,
           l.max_attempts - l.budget_start, l.timeout_ms, l.backoff_ms, l.backoff_max_ms, l.backoff_jitter, l.compensation,
           CASE WHEN l.first THEN COALESCE(l.input, '{}'::jsonb) || CAST(:#nextInput AS jsonb) END,
           CASE WHEN l.runs THEN now() END,
           CASE WHEN l.runs THEN capped_deadline(done.execution_id, 'step', now() + l.timeout_ms * interval '1 millisecond') END,
           CASE WHEN l.runs THEN current_setting('application_name') END, l.request_context,
           CASE WHEN l.runs THEN CAST(:#causeMessageId AS varchar) END, done.loop_round_start
      FROM latest l, done, merged
    RETURNING step_id, iteration, max_attempts, status, deadline, request_context, input
)
SELECT iteration, max_attempts, status, deadline, request_context::text AS context, input::text AS input
  FROM started
 WHERE step_id = CAST(:#repeatFrom AS varchar)
