-- GET /api/events lists the events received, newest first, a page at a time as GET /api/executions does (V17): a
-- page ends with the cursor of its last row (received_at in epoch microseconds and the row's id), and the next
-- starts strictly after it. Each event with the execution it started and that execution's status now, so that
-- "what came in, and what became of it" is one call. The payload is left to GET /api/events/{id}. Planned for each
-- call's values: a type not given folds away, and the index on (type, received_at) or on received_at (V13) starts
-- at the cursor.
CREATE FUNCTION list_events(p_type varchar, p_limit integer, p_after_micros bigint, p_after_id varchar)
    RETURNS TABLE (event_id varchar, type varchar, received_at timestamptz, deliveries integer, workflow_id varchar,
                   execution_id varchar, execution_status varchar, page_cursor text) AS $$
#variable_conflict use_column
DECLARE
    v_after timestamptz := timestamptz 'epoch' + p_after_micros * interval '1 microsecond';
BEGIN
    RETURN QUERY SELECT ev.event_key, ev.type, ev.received_at, ev.deliveries, ev.workflow_id, ev.execution_id, x.status,
                        (extract(epoch FROM ev.received_at) * 1000000)::bigint || ':' || ev.id
                   FROM agent_events ev
                   LEFT JOIN workflow_executions x ON x.id = ev.execution_id
                  WHERE (p_type IS NULL OR ev.type = p_type)
                    AND (p_after_micros IS NULL
                         OR (ev.received_at <= v_after AND (ev.received_at < v_after OR ev.id < p_after_id)))
                  ORDER BY ev.received_at DESC, ev.id DESC LIMIT p_limit;
END;
$$ LANGUAGE plpgsql STABLE SET plan_cache_mode = force_custom_plan;

-- GET /api/executions names each execution's event (its event_id, as GET /api/executions/{id} does). The column is
-- added at the end: a coordinator of the release before, during a rolling deployment, lists every column it is
-- given, so its listing shows it too. The three-argument form (V15, V17) names its columns and is unchanged.
DROP FUNCTION list_executions(varchar, varchar, integer, bigint, varchar);
CREATE FUNCTION list_executions(p_workflow varchar, p_status varchar, p_limit integer, p_after_micros bigint,
                                p_after_id varchar)
    RETURNS TABLE (id varchar, workflow_id varchar, workflow_version integer, status varchar, error text,
                   started_at timestamptz, completed_at timestamptz, created_at timestamptz, page_cursor text,
                   event_id varchar) AS $$
#variable_conflict use_column
DECLARE
    v_after timestamptz := timestamptz 'epoch' + p_after_micros * interval '1 microsecond';
BEGIN
    RETURN QUERY SELECT e.id, e.workflow_id, e.workflow_version, e.status, e.error, e.started_at, e.completed_at,
                        e.created_at,
                        (extract(epoch FROM e.created_at) * 1000000)::bigint || ':' || e.id,
                        e.trigger_event_key
                   FROM workflow_executions e
                  WHERE (p_workflow IS NULL OR e.workflow_id = p_workflow) AND (p_status IS NULL OR e.status = p_status)
                    AND (p_after_micros IS NULL
                         OR (e.created_at <= v_after AND (e.created_at < v_after OR e.id < p_after_id)))
                  ORDER BY e.created_at DESC, e.id DESC LIMIT p_limit;
END;
$$ LANGUAGE plpgsql STABLE SET plan_cache_mode = force_custom_plan;
