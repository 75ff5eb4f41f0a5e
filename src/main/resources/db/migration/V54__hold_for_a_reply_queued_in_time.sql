-- As V47's, without "s.deadline > now()": an attempt whose deadline passed while its reply, sent in time, waits in the
-- reply queue (a backlog: the timeout sweeps hold for it) is still in flight at a cancel, and its agent may have done
-- its work. Its compensation is held as any other's: the reply decides it, or release-expired-holds.sql (which holds
-- for queued replies too) skips it at once when no reply comes.
CREATE OR REPLACE FUNCTION attempts_to_hold(p_execution_id varchar) RETURNS jsonb AS $$
    SELECT jsonb_agg(jsonb_build_object('row_id', s.id, 'step_id', s.step_id, 'held_until', s.deadline,
                                        'request', s.id || ':' || s.attempt))
      FROM workflow_step_executions s
     WHERE s.execution_id = p_execution_id AND s.kind = 'step' AND s.status = 'running'
       AND s.compensation IS NOT NULL AND s.deadline IS NOT NULL
$$ LANGUAGE sql STABLE;
