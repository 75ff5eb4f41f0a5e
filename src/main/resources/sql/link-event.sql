UPDATE agent_events SET execution_id = :#executionId WHERE event_key = :#eventKey AND execution_id IS NULL
