package dev.agentcoordinator.locks;

import java.util.Objects;

/**
 * Who holds (or wants) a lock: a step of an execution, acting as an agent with that agent's priority.
 * The holder is identified by execution and step: the same step asking again renews its lock.
 */
public record LockHolder(String agent, int priority, String executionId, String stepId) {

    public LockHolder {
        Objects.requireNonNull(agent, "agent");
        Objects.requireNonNull(executionId, "executionId");
        Objects.requireNonNull(stepId, "stepId");
    }

    public String describe() {
        return agent + " (priority " + priority + ", execution " + executionId + ", step " + stepId + ")";
    }
}
