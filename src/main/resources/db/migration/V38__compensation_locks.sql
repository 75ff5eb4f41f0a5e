-- A compensation takes the locks of the step it undoes (CompensationRoutes, LockedStepStart.ofCompensation), held
-- as that step (execution_id, step_id) by its compensating agent: an undo then waits for another execution's step
-- that holds the resource, as a step does, instead of running beside it. Its lock stays in force while it runs, as
-- a step's does (V33): the row that runs may now be the step's or its compensation's. A step and its compensation
-- do not run at once: a compensation starts once its execution compensates, when no step of it runs.
CREATE OR REPLACE FUNCTION lock_in_force(p_expires_at timestamptz, p_execution_id varchar, p_step_id varchar) RETURNS boolean AS $$
BEGIN
    RETURN p_expires_at >= now()
        OR EXISTS (SELECT 1 FROM workflow_step_executions s
                    WHERE s.execution_id = p_execution_id AND s.step_id = p_step_id AND s.status = 'running');
END;
$$ LANGUAGE plpgsql STABLE;
