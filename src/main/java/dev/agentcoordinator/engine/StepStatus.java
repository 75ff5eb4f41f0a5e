package dev.agentcoordinator.engine;

import java.util.Set;

/**
 * Status of a step as a decision reads it; knows which states are settled (nothing more will happen to
 * them). A row stores only the contract's pending, running, completed, failed or skipped (V22);
 * RETRYING is how the context statements name a pending row waiting for its next attempt
 * (next_attempt_at set), which only the retry sweep starts.
 */
public enum StepStatus {
    PENDING, RUNNING, RETRYING, COMPLETED, FAILED, SKIPPED;

    private static final Set<StepStatus> SETTLED = Set.of(COMPLETED, FAILED, SKIPPED);

    public static StepStatus of(String dbValue) {
        return valueOf(dbValue.toUpperCase(java.util.Locale.ROOT));
    }

    public boolean isSettled() {
        return SETTLED.contains(this);
    }

    public boolean isUnsuccessful() {
        return this == FAILED;
    }

    public String db() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
