package dev.agentcoordinator.locks;

import java.util.Objects;

/** One resource to lock, and for how long at most (should the holder never release it). */
public record LockRequest(String resourceType, String resourceId, long ttlMs) implements Comparable<LockRequest> {

    public LockRequest {
        Objects.requireNonNull(resourceType, "resourceType");
        Objects.requireNonNull(resourceId, "resourceId");
        if (ttlMs <= 0) {
            throw new IllegalArgumentException("ttl of lock " + resourceType + "/" + resourceId + " must be > 0, was " + ttlMs);
        }
    }

    /** {@code roadmap/u-1}, as errors and waiting notes name a lock. */
    public String resource() {
        return resourceType + "/" + resourceId;
    }

    /** Several locks are always taken in this order, so two steps never wait on each other crosswise. */
    @Override
    public int compareTo(LockRequest other) {
        int byType = resourceType.compareTo(other.resourceType);
        return byType != 0 ? byType : resourceId.compareTo(other.resourceId);
    }
}
