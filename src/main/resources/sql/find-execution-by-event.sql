SELECT id, status FROM workflow_executions WHERE trigger_event_key = :#eventKey
