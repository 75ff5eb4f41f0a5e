-- Current lock holders (GET /api/locks); rows no longer in force (lock_in_force, V33) are free and not listed.
-- cut_off_attempt: kept for that attempt of the holder's step, which a cancel cut off while its agent may still work (V49).
SELECT COALESCE(jsonb_agg(jsonb_build_object('resource_type', resource_type, 'resource_id', resource_id,
                                             'lock_id', id, 'locked_by', locked_by, 'priority', priority,
                                             'execution_id', execution_id, 'step_id', step_id,
                                             'locked_at', locked_at, 'expires_at', expires_at,
                                             'cut_off_attempt', cut_off_attempt)
                          ORDER BY resource_type, resource_id), '[]'::jsonb)::text AS locks
FROM resource_locks
WHERE lock_in_force(expires_at, execution_id, step_id)
