package dev.agentcoordinator.engine;

import java.util.Set;

/** Status of a step row; knows which states are settled (nothing more will happen to them). */
public enum StepStatus {
    PENDING, RUNNING, RETRYING, COMPLETED, FAILED, SKIPPED, CANCELLED;

    private static final Set<StepStatus> SETTLED = Set.of(COMPLETED, FAILED, SKIPPED, CANCELLED);

    public static StepStatus of(String dbValue) {
        return valueOf(dbValue.toUpperCase(java.util.Locale.ROOT));
    }

    public boolean isSettled() {
        return SETTLED.contains(this);
    }

    public boolean isUnsuccessful() {
        return this == FAILED || this == CANCELLED;
    }

    public String db() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
