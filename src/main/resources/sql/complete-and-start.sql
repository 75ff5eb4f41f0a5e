-- running -> completed, as complete-step.sql, and in the same statement pending -> running for the
-- dependents the coordinator could decide beforehand (starts: JSON list of row_id and input, or NULL;
-- complete_attempt_and_start, V8). The column "started" names those that did start. For a step without
-- dependents (finish) it also ends the execution when nothing else is left (finished_* columns). At a fan-in
-- dependent it does not start it records its arrival when some dependency has not settled (arrivals:
-- JSON list, or NULL; V12); the column "arrived" names those. A reply that reached the broker after the attempt's
-- deadline (replyArrivedAt, epoch ms; NULL: not known) settles nothing (V44).
SELECT * FROM complete_attempt_and_start(:#rowId, :#kind, :#attempt, CAST(:#output AS jsonb), CAST(:#sharedMemory AS jsonb),
                                         CAST(:#signals AS jsonb), CAST(:#withContext AS boolean), CAST(:#withSignals AS boolean),
                                         CAST(:#withSignalList AS boolean), CAST(:#starts AS jsonb), CAST(:#causeMessageId AS varchar),
                                         CAST(:#finish AS boolean), CAST(:#partialSuccess AS boolean), CAST(:#toleratedFailures AS jsonb),
                                         CAST(:#arrivals AS jsonb), to_timestamp(CAST(:#replyArrivedAt AS bigint) / 1000.0))
 -- only for the step and attempt budget the reply's correlation id names (its part after '@' is the agent's to write:
 -- it named another step of the execution, which then completed with that agent's output and started its dependents);
 -- a reply it does not hold for changes nothing here and is judged against its row (ReplyRoutes, BY_STEP_ROW)
 WHERE EXISTS (SELECT 1 FROM workflow_step_executions named JOIN workflow_executions e ON e.id = named.execution_id
                WHERE named.id = :#rowId AND named.step_id = :#stepId AND named.max_attempts = CAST(:#maxAttempts AS integer)
                  AND e.workflow_id = :#workflowId AND e.workflow_version = CAST(:#workflowVersion AS integer))
