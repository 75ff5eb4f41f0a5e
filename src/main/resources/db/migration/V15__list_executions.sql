-- GET /api/executions: the newest executions, optionally of one workflow and / or in one status. The coordinator's
-- sessions plan every statement once, for any values (plan_cache_mode = force_generic_plan, Database.java), which
-- suits the transitions; a listing's best plan depends on the values: the newest rows through idx_executions_created
-- (V14) for a common workflow or status, idx_executions_workflow_status and a sort for a rare one. Measured on
-- 300,000 executions: a generic plan read the whole index for a combination with no rows (347 ms). This function
-- plans each call for its values.
CREATE FUNCTION list_executions(p_workflow varchar, p_status varchar, p_limit integer)
    RETURNS TABLE (id varchar, workflow_id varchar, workflow_version integer, status varchar, error text,
                   started_at timestamptz, completed_at timestamptz) AS $$
#variable_conflict use_column
BEGIN
    -- planned for the call's values, a filter not given (NULL) folds away before the plan is chosen
    RETURN QUERY SELECT e.id, e.workflow_id, e.workflow_version, e.status, e.error, e.started_at, e.completed_at
                   FROM workflow_executions e
                  WHERE (p_workflow IS NULL OR e.workflow_id = p_workflow) AND (p_status IS NULL OR e.status = p_status)
                  ORDER BY e.created_at DESC LIMIT p_limit;
END;
$$ LANGUAGE plpgsql STABLE SET plan_cache_mode = force_custom_plan;
