package dev.agentcoordinator.engine;

/**
 * How an ignored reply is logged: the first one for an attempt as a line of its own (WARN, or INFO when expected), the
 * ones after it for the same attempt at most one line every {@link #TELL_EVERY_MS}, naming how many came meanwhile; the
 * others at DEBUG. Every one is still recorded in {@code ignored_replies}. An agent that answered each request a
 * thousand times wrote 4,995 WARN lines in 8 s. Per coordinator.
 */
final class IgnoredReplyLines {
    static final long TELL_EVERY_MS = 30_000;

    private final TellingThrottle throttle;

    IgnoredReplyLines() {
        this(TellingThrottle::monotonicMillis);
    }

    IgnoredReplyLines(java.util.function.LongSupplier clock) {
        this.throttle = new TellingThrottle(TELL_EVERY_MS, clock);
    }

    /**
     * The line to log for an ignored reply to {@code attempt} (its correlation, {@code <row>:<attempt>}, or the
     * correlation id as sent when it names none), or null when it is only logged at DEBUG.
     */
    String lineFor(String attempt, String reason) {
        int untold = throttle.tellOrCount(attempt);
        return untold < 0 ? null : untold == 0 ? reason : reason + " (" + untold
                + " more ignored for this attempt since the last such line, each recorded in ignored_replies)";
    }
}
