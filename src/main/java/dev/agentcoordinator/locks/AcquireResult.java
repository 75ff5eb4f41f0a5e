package dev.agentcoordinator.locks;

import java.time.Instant;

/** What an attempt to take one lock came to. */
public sealed interface AcquireResult {

    boolean acquired();

    /**
     * The caller holds the lock until {@code expiresAt}. {@code preempted} is the lower-priority
     * holder it took the lock from, or null.
     */
    record Acquired(LockRequest request, String lockId, Instant expiresAt, LockHolder preempted) implements AcquireResult {
        @Override
        public boolean acquired() {
            return true;
        }
    }

    /** A holder of equal or higher priority has it until {@code until}; null fields when it vanished meanwhile. */
    record Blocked(LockRequest request, LockHolder holder, Instant until) implements AcquireResult {
        @Override
        public boolean acquired() {
            return false;
        }

        /** E.g. {@code lock roadmap/u-1 held by architect (priority 4, execution …, step …) until …}. */
        public String describe() {
            return "lock " + request.resource() + (holder == null ? " (holder just released it)"
                    : " held by " + holder.describe() + (until == null ? ""
                            // past its expiry, a lock stays in force while its holder's step runs (V33)
                            : until.isAfter(Instant.now()) ? " until " + dev.agentcoordinator.engine.Json.time(until)
                            : " while its step runs, expired at " + dev.agentcoordinator.engine.Json.time(until)));
        }
    }
}
