-- GET /api/agents: the attempts sent to each agent and not answered yet (steps and compensations), as
-- coordinator_steps_waiting counts them (BacklogGauges).
SELECT agent, count(*) AS running FROM workflow_step_executions WHERE status = 'running' GROUP BY agent
