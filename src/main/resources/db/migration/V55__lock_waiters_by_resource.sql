-- find-lock-waiters.sql (a step's first try of its locks, and the lock sweep's tries) reads only the waiters of the
-- resource it asks about: before, it read every waiter through idx_steps_waiting_for_lock, 0.2 to 1 ms at 1,000 waiters
-- whatever the waiters of that resource. Indexed: a pending row's waiting_locks, or [false] for one noted by a release
-- before V53 (none: matched by its note). The status is in the expression, not in the predicate, so that the statement
-- asks it there too: the planner, counting status = 'pending' and waiting_for IS NOT NULL as independent, reckons a
-- handful of waiters in all and would otherwise read every one through idx_steps_waiting_for_lock. Only rows with a note
-- are indexed (a pending waiter; a settled one whose wait failed, under a null key): no step without locks writes here.
-- jsonb_path_ops: the statement asks only @>.
-- Built CONCURRENTLY, as V13, so that coordinators of the version before keep writing while a large table is indexed
-- during a rolling deployment; a build cut off leaves an INVALID index and no record of V55, so it is made anew (V52).
DROP INDEX CONCURRENTLY IF EXISTS idx_steps_waiting_for_locks;
CREATE INDEX CONCURRENTLY idx_steps_waiting_for_locks ON workflow_step_executions
    USING gin ((CASE WHEN status = 'pending' THEN COALESCE(waiting_locks, '[false]') END) jsonb_path_ops)
    WHERE waiting_for IS NOT NULL;
