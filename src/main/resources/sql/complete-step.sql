-- running -> completed, with what the reply adds to the shared context (a compensation's reply: nothing to start,
-- nothing to finish). No row when the attempt is not in flight, or the reply reached the broker after its deadline
-- (replyArrivedAt, epoch ms; NULL: not known; V44); otherwise the execution and, when withContext, the context read
-- after this change (one row per step, as load-context.sql gives it).
SELECT c.execution_id, c.attempt_started_at, c.execution_status, c.trigger_payload, c.shared_memory, c.signals,
       c.signal_list, c.row_id, c.step_id, c.status, c.output, c.iteration
  FROM complete_attempt_and_start(:#rowId, :#kind, :#attempt, CAST(:#output AS jsonb), CAST(:#sharedMemory AS jsonb),
                                  CAST(:#signals AS jsonb), CAST(:#withContext AS boolean), CAST(:#withSignals AS boolean),
                                  CAST(:#withSignalList AS boolean), NULL::jsonb, NULL::varchar, false, NULL::boolean,
                                  NULL::jsonb, NULL::jsonb, to_timestamp(CAST(:#replyArrivedAt AS bigint) / 1000.0)) c
