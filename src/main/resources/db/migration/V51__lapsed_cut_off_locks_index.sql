-- Locks kept for an attempt a cancel cut off (V49) that lapsed at its deadline with no word from its agent are deleted
-- by the hold sweep (release-expired-holds.sql) rather than left as rows until their resource is taken again: this
-- index finds them without reading the other locks, every sweep period.
CREATE INDEX idx_resource_locks_cut_off_expiry ON resource_locks (expires_at) WHERE cut_off_attempt IS NOT NULL;
