package dev.agentcoordinator.engine;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * How an ignored reply is logged: the first one for an attempt as a line of its own (WARN, or INFO when expected), the
 * ones after it for the same attempt at most one line every {@link #TELL_EVERY_MS}, naming how many came meanwhile; the
 * others at DEBUG. Every one is still recorded in {@code ignored_replies}. An agent that answered each request a
 * thousand times wrote 4,995 WARN lines in 8 s. Per coordinator.
 */
final class IgnoredReplyLines {
    static final long TELL_EVERY_MS = 30_000;
    /** Attempts remembered at most (the oldest go first): one forgotten is told as a first one again. */
    private static final int REMEMBERED = 10_000;

    private final LongSupplier clock;
    private final Map<String, Told> told = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Told> eldest) {
            return size() > REMEMBERED;
        }
    };

    private record Told(long at, int since) {
    }

    IgnoredReplyLines() {
        this(System::currentTimeMillis);
    }

    IgnoredReplyLines(LongSupplier clock) {
        this.clock = clock;
    }

    /**
     * The line to log for an ignored reply to {@code attempt} (its correlation, {@code <row>:<attempt>}, or the
     * correlation id as sent when it names none), or null when it is only logged at DEBUG.
     */
    synchronized String lineFor(String attempt, String reason) {
        long now = clock.getAsLong();
        Told last = told.get(attempt);
        if (last == null) {
            told.put(attempt, new Told(now, 0));
            return reason;
        }
        if (now - last.at() >= TELL_EVERY_MS) {
            told.put(attempt, new Told(now, 0));
            return reason + (last.since() == 0 ? "" : " (" + last.since() + " more ignored for this attempt since the last such line,"
                    + " each recorded in ignored_replies)");
        }
        told.put(attempt, new Told(last.at(), last.since() + 1));
        return null;
    }
}
