-- Every lock a step waiting for its locks asks for, as [[resource_type, resource_id], ...]: its waiting_for note names
-- only the first that blocked it, and a step trying its locks for the first time yields to a waiter of any of them
-- (LockedStepStart, find-lock-waiters.sql). Read only while waiting_for is set (a pending row); written with the note.
-- A row noted by an earlier release has none: its note is matched instead.
ALTER TABLE workflow_step_executions ADD COLUMN waiting_locks jsonb;
