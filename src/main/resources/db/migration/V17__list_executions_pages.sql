-- GET /api/executions pages through every execution, not only the newest 1,000: a page ends with the cursor of
-- its last row (its created_at in epoch microseconds and its id), and the next page starts strictly after it in the
-- listing's order (created_at, then id, both descending). The cursor carries its own position, so it stays valid
-- when retention deletes the row it came from. Planned for each call's values, as V15.
CREATE FUNCTION list_executions(p_workflow varchar, p_status varchar, p_limit integer, p_after_micros bigint,
                                p_after_id varchar)
    RETURNS TABLE (id varchar, workflow_id varchar, workflow_version integer, status varchar, error text,
                   started_at timestamptz, completed_at timestamptz, created_at timestamptz, page_cursor text) AS $$
#variable_conflict use_column
DECLARE
    v_after timestamptz := timestamptz 'epoch' + p_after_micros * interval '1 microsecond';
BEGIN
    -- a filter not given (NULL) folds away before the plan is chosen; "created_at <= v_after" lets the index on
    -- created_at (V14) or on (workflow_id, status, created_at) start at the cursor
    RETURN QUERY SELECT e.id, e.workflow_id, e.workflow_version, e.status, e.error, e.started_at, e.completed_at,
                        e.created_at,
                        (extract(epoch FROM e.created_at) * 1000000)::bigint || ':' || e.id
                   FROM workflow_executions e
                  WHERE (p_workflow IS NULL OR e.workflow_id = p_workflow) AND (p_status IS NULL OR e.status = p_status)
                    AND (p_after_micros IS NULL
                         OR (e.created_at <= v_after AND (e.created_at < v_after OR e.id < p_after_id)))
                  ORDER BY e.created_at DESC, e.id DESC LIMIT p_limit;
END;
$$ LANGUAGE plpgsql STABLE SET plan_cache_mode = force_custom_plan;

-- The three-argument form (V15) stays for coordinators of the version before during a rolling deployment.
CREATE OR REPLACE FUNCTION list_executions(p_workflow varchar, p_status varchar, p_limit integer)
    RETURNS TABLE (id varchar, workflow_id varchar, workflow_version integer, status varchar, error text,
                   started_at timestamptz, completed_at timestamptz) AS $$
SELECT l.id, l.workflow_id, l.workflow_version, l.status, l.error, l.started_at, l.completed_at
  FROM list_executions(p_workflow, p_status, p_limit, NULL, NULL) l
$$ LANGUAGE sql STABLE;
