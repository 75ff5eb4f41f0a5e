-- Which coordinator instance dispatched a step's current attempt (coordinator.instance-id, passed to
-- PostgreSQL as the connections' application_name): shows how several instances share the work.
ALTER TABLE workflow_step_executions ADD COLUMN handled_by varchar(100);
