package dev.agentcoordinator.engine;

/**
 * Told of every step attempt that started holding its locks. Those start over JDBC in one transaction
 * ({@link LockedStepStart}), not through a camel-sql statement that the metrics could watch, so the
 * metrics (found in the Camel registry by this type) are told directly.
 */
public interface LockedStartListener {
    void startedWithLocks(String workflowId, String stepId);
}
