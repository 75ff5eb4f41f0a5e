-- Everything a step needs to decide whether and how to run (execution_context, V5): the trigger, the
-- shared context and the latest iteration of every step of the execution; the signals only for steps
-- that ask (withSignals, withSignalList).
SELECT * FROM execution_context(:#executionId, CAST(:#withSignals AS boolean), CAST(:#withSignalList AS boolean))
