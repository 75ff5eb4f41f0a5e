-- A StepResult's times in UTC with Z, as the API writes every time, not as PostgreSQL writes a timestamptz into JSON
-- (+00:00): an execution's result and its outcome event's results and failures are built here (step_result, V32),
-- so they read alike, and alike with the API, whichever coordinator built them.
CREATE FUNCTION utc_time(p_time timestamptz) RETURNS text AS $$
    SELECT to_char(p_time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
$$ LANGUAGE sql IMMUTABLE;

CREATE OR REPLACE FUNCTION step_result(p_step_id text, p_status text, p_output jsonb, p_error text,
                                       p_started_at timestamptz, p_completed_at timestamptz) RETURNS jsonb AS $$
    SELECT jsonb_build_object('step_id', p_step_id, 'status', p_status, 'output', p_output, 'error', p_error,
                              'started_at', utc_time(p_started_at), 'completed_at', utc_time(p_completed_at))
$$ LANGUAGE sql STABLE;
