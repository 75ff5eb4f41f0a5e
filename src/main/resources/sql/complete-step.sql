-- running -> completed, with what the reply adds to the shared context (complete_attempt, V5). No row
-- when the attempt is not in flight; otherwise the execution and, when withContext, the context its
-- dependents decide on, read after this change (one row per step, as load-context.sql gives it).
SELECT * FROM complete_attempt(:#rowId, :#kind, :#attempt, CAST(:#output AS jsonb), CAST(:#sharedMemory AS jsonb),
                               CAST(:#signals AS jsonb), CAST(:#withContext AS boolean), CAST(:#withSignals AS boolean),
                               CAST(:#withSignalList AS boolean))
