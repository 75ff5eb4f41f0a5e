-- One round trip per transition (issue 7). A reply used to cost two statements and two commits:
-- complete the attempt (returning the context), then mark each ready dependent running. When the
-- coordinator can decide a dependent before the completion, on facts that never change (the trigger
-- and the outputs of completed steps: engine/DependentStarts), the completing statement also starts
-- it, guarded as mark-running.sql guards it: the dependent still pending, the execution still running.
--
-- p_starts: [{"row_id": …, "input": {…}, "join_key": …}, …] or NULL; p_cause: the JMSMessageID whose
-- transaction sends the started requests (dispatched_by, V7). A started fan-in names its partial join
-- (join_key, as the aggregator keys it in step_joins), which goes in the same transaction. The extra column "started" lists what did start
-- (row_id, step_id, attempt, max_attempts, iteration, deadline_ms: epoch milliseconds, cheaper to read
-- than a timestamp's text) on every row, NULL when nothing did;
-- a dependent that was not started goes the usual way (its step route, on the context).
--
-- p_finish (a step without dependents): also end the execution if nothing else is left (finish_execution;
-- the finished_* columns, NULL when it did not end). That check reads inside this transaction, so it
-- can miss a step settling at the same moment in another one: when it does not end the execution,
-- the coordinator still runs finish-execution.sql after the commit, as it always did.
-- The end of an execution (finish-execution.sql, unchanged in effect), as a function, so that a leaf
-- step's completion can also end its execution in the same statement. Only one caller wins (status
-- guard), so the onSuccess/onFailure event is published once; V2__compensation.sql explains
-- 'compensating'.
CREATE FUNCTION finish_execution(p_execution_id varchar, p_partial_success boolean, p_tolerated jsonb)
    RETURNS TABLE (status text, workflow_id text, results text, failures text) AS $$
WITH latest AS (
    SELECT DISTINCT ON (step_id) step_id, status, output, error, compensation
    FROM workflow_step_executions
    WHERE execution_id = p_execution_id AND kind = 'step'
    ORDER BY step_id, iteration DESC
), verdict AS (
    SELECT NOT EXISTS (
               SELECT 1 FROM latest
               WHERE status = 'failed'
                 AND NOT (p_partial_success AND step_id IN (SELECT jsonb_array_elements_text(p_tolerated)))
           ) AS success,
           EXISTS (SELECT 1 FROM latest WHERE status = 'completed' AND compensation IS NOT NULL) AS compensable,
           (SELECT jsonb_object_agg(step_id, output) FROM latest WHERE status = 'completed') AS results,
           (SELECT jsonb_agg(jsonb_build_object('step_id', step_id, 'error', error)) FROM latest
             WHERE status = 'failed') AS failures
)
UPDATE workflow_executions e
   SET status = CASE WHEN v.success THEN 'completed' WHEN v.compensable THEN 'compensating' ELSE 'failed' END,
       result = COALESCE(v.results, '{}'::jsonb),
       error = CASE WHEN v.success THEN NULL
                    ELSE 'failed steps: ' || (SELECT string_agg(f->>'step_id', ', ') FROM jsonb_array_elements(v.failures) f) END,
       completed_at = now()
  FROM verdict v
 WHERE e.id = p_execution_id AND e.status = 'running'
   AND NOT EXISTS (SELECT 1 FROM workflow_step_executions s
                   WHERE s.execution_id = e.id AND s.status IN ('pending', 'running', 'retrying'))
RETURNING e.status::text, e.workflow_id::text, COALESCE(v.results, '{}'::jsonb)::text,
          COALESCE(v.failures, '[]'::jsonb)::text
$$ LANGUAGE sql;

CREATE FUNCTION complete_attempt_and_start(p_row_id varchar, p_kind varchar, p_attempt integer, p_output jsonb,
                                           p_shared_memory jsonb, p_signals jsonb,
                                           p_with_context boolean, p_with_signals boolean, p_with_signal_list boolean,
                                           p_starts jsonb, p_cause varchar,
                                           p_finish boolean, p_partial_success boolean, p_tolerated jsonb)
    RETURNS TABLE (execution_id text, attempt_started_at timestamptz, execution_status text, trigger_payload text,
                   shared_memory text, signals text, signal_list text, row_id text, step_id text, status text,
                   output text, iteration integer, started text,
                   finished_status text, finished_results text, finished_failures text) AS $$
#variable_conflict use_column
DECLARE
    v_execution_id varchar;
    v_step_id      varchar;
    v_agent        varchar;
    v_started_at   timestamptz;
    v_started      text;
    v_finished     text;
    v_results      text;
    v_failures     text;
BEGIN
    UPDATE workflow_step_executions s
       SET status = 'completed', output = p_output, error = NULL, completed_at = now(), deadline = NULL,
           updated_at = now()
     WHERE s.id = p_row_id AND s.attempt = p_attempt AND s.status = 'running' AND s.kind = p_kind
    RETURNING s.execution_id, s.step_id, s.agent INTO v_execution_id, v_step_id, v_agent;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    IF p_shared_memory <> '{}'::jsonb OR p_signals <> '[]'::jsonb THEN
        PERFORM merge_reply_context(v_execution_id, v_step_id, v_agent, p_shared_memory, p_signals);
    END IF;
    SELECT a.started_at INTO v_started_at FROM step_attempts a
     WHERE a.step_execution_id = p_row_id AND a.attempt = p_attempt;
    IF p_starts IS NOT NULL AND jsonb_array_length(p_starts) > 0 THEN
        WITH started AS (
            UPDATE workflow_step_executions s
               SET status = 'running', attempt = s.attempt + 1, input = x.input, started_at = now(),
                   deadline = now() + s.timeout_ms * interval '1 millisecond', updated_at = now(),
                   handled_by = current_setting('application_name'), dispatched_by = p_cause
              FROM jsonb_to_recordset(p_starts) AS x(row_id text, input jsonb, join_key text)
             WHERE s.id = x.row_id AND s.execution_id = v_execution_id AND s.status = 'pending'
               AND EXISTS (SELECT 1 FROM workflow_executions e WHERE e.id = v_execution_id AND e.status = 'running')
            RETURNING s.id AS started_row, s.step_id AS started_step, s.attempt AS started_attempt,
                      s.max_attempts AS started_max_attempts, s.iteration AS started_iteration,
                      s.deadline AS started_deadline, x.join_key AS started_join_key
        ), joined AS (
            DELETE FROM step_joins j USING started WHERE j.id = started.started_join_key
        )
        SELECT jsonb_agg(jsonb_build_object('row_id', started.started_row, 'step_id', started.started_step,
                                            'attempt', started.started_attempt,
                                            'max_attempts', started.started_max_attempts,
                                            'iteration', started.started_iteration,
                                            'deadline_ms', floor(extract(epoch FROM started.started_deadline) * 1000)::bigint))::text
          INTO v_started FROM started;
    END IF;
    IF p_finish THEN
        SELECT f.status, f.results, f.failures INTO v_finished, v_results, v_failures
          FROM finish_execution(v_execution_id, p_partial_success, p_tolerated) f;
    END IF;
    IF p_with_context THEN
        RETURN QUERY SELECT v_execution_id::text, v_started_at, c.*, v_started, v_finished, v_results, v_failures
                       FROM execution_context(v_execution_id, p_with_signals, p_with_signal_list) c;
    ELSE
        RETURN QUERY SELECT v_execution_id::text, v_started_at, NULL::text, NULL::text, NULL::text, NULL::text, NULL::text,
                            NULL::text, NULL::text, NULL::text, NULL::text, NULL::integer, v_started,
                            v_finished, v_results, v_failures;
    END IF;
END;
$$ LANGUAGE plpgsql;

-- complete_attempt (V5, V6) is now the same transition with nothing to start: one body, not two.
CREATE OR REPLACE FUNCTION complete_attempt(p_row_id varchar, p_kind varchar, p_attempt integer, p_output jsonb,
                                            p_shared_memory jsonb, p_signals jsonb,
                                            p_with_context boolean, p_with_signals boolean, p_with_signal_list boolean)
    RETURNS TABLE (execution_id text, attempt_started_at timestamptz, execution_status text, trigger_payload text,
                   shared_memory text, signals text, signal_list text, row_id text, step_id text, status text,
                   output text, iteration integer) AS $$
SELECT c.execution_id, c.attempt_started_at, c.execution_status, c.trigger_payload, c.shared_memory, c.signals,
       c.signal_list, c.row_id, c.step_id, c.status, c.output, c.iteration
  FROM complete_attempt_and_start(p_row_id, p_kind, p_attempt, p_output, p_shared_memory, p_signals,
                                  p_with_context, p_with_signals, p_with_signal_list, NULL, NULL, false, NULL, NULL) c
$$ LANGUAGE sql;
