-- Ends the execution once every step is settled (or starts compensating it, see V2__compensation.sql). Only one caller wins (status guard), so the
-- onSuccess/onFailure event is published once.
WITH latest AS (
    SELECT DISTINCT ON (step_id) step_id, status, output, error, compensation
    FROM workflow_step_executions
    WHERE execution_id = :#executionId AND kind = 'step'
    ORDER BY step_id, iteration DESC
), verdict AS (
    SELECT NOT EXISTS (
               SELECT 1 FROM latest
               WHERE status = 'failed'
                 AND NOT (CAST(:#partialSuccess AS boolean)
                          AND step_id IN (SELECT jsonb_array_elements_text(CAST(:#toleratedFailures AS jsonb))))
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
 WHERE e.id = :#executionId AND e.status = 'running'
   AND NOT EXISTS (SELECT 1 FROM workflow_step_executions s
                   WHERE s.execution_id = e.id AND s.status IN ('pending', 'running', 'retrying'))
RETURNING e.status, e.workflow_id, COALESCE(v.results, '{}'::jsonb)::text AS results,
          COALESCE(v.failures, '[]'::jsonb)::text AS failures
