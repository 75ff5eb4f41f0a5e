-- Locks kept for an attempt a cancel cut off (V49) that lapsed at its deadline with no word from its agent are deleted
-- by the hold sweep (release-expired-holds.sql) rather than left as rows until their resource is taken again: this
-- index finds them without reading the other locks, every sweep period.
CREATE INDEX idx_resource_locks_cut_off_expiry ON resource_locks (expires_at) WHERE cut_off_attempt IS NOT NULL;

-- A retry of an execution gives a loop its max_iterations again, counted from the iteration it resumes at (the
-- iteration a reset row of the loop's step runs; NULL: 0, as every row before this). A loop that failed exhausted
-- (fail_when_exhausted) so gets new iterations on a retry, where it judged its last iteration again and failed at once.
-- Copied into each next iteration's rows (complete-and-iterate*.sql).
ALTER TABLE workflow_step_executions ADD COLUMN loop_round_start integer;
