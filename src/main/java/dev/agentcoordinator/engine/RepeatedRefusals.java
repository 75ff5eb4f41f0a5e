package dev.agentcoordinator.engine;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.function.LongSupplier;

/**
 * The requests the retry sweep sends again whose send the broker refused before (a full address whose policy is
 * FAIL, a user without the send permission): each is still sent again every sweep period, until it goes or its
 * attempt's deadline passes, but only its first refusal is raised as a failure (an ERROR with the route's message
 * history); the ones after it are one WARN line at most every {@link #TELL_EVERY_MS} per attempt. Before, every
 * sweep period (200 ms) logged an ERROR with its stack trace, and a WARN that it was sent again, for each such request.
 * Per coordinator: another one taking the sweep's rows tells its own first refusal.
 */
final class RepeatedRefusals {
    private static final Logger LOG = LoggerFactory.getLogger(Endpoints.PROGRESS_LOG);
    static final long TELL_EVERY_MS = 30_000;

    /** By attempt ({@link #key}): refused before, when that was last told, and how many refusals since. */
    private final TellingThrottle refused;

    RepeatedRefusals() {
        this(TellingThrottle::monotonicMillis);
    }

    RepeatedRefusals(LongSupplier clock) {
        this.refused = new TellingThrottle(TELL_EVERY_MS, clock);
        this.clock = clock;
    }

    /**
     * How long the sweep leaves a queue alone after a send to it was given up on as it waited for credits
     * ({@link CreditWaitBound}): each such send holds the sweeps' one timer thread for the bound, and a batch of requests
     * to one blocked agent held it for the bound each, the attempts' timeouts waiting behind them.
     */
    static final long BLOCKED_PAUSE_MS = 5_000;
    /** The queues whose send was last given up on, and when (monotonic ms). */
    private final java.util.Map<String, Long> blocked = new java.util.concurrent.ConcurrentHashMap<>();
    private final LongSupplier clock;

    /** A send to the queue was given up on: the broker blocks sends to it. */
    void blocked(String queue) {
        blocked.put(queue, clock.getAsLong());
    }

    /** Whether a send to the queue was given up on less than {@link #BLOCKED_PAUSE_MS} ago: its requests wait for a later run. */
    boolean blockedRecently(String queue) {
        Long since = blocked.get(queue);
        if (since == null) {
            return false;
        }
        if (clock.getAsLong() - since < BLOCKED_PAUSE_MS) {
            return true;
        }
        blocked.remove(queue, since);
        return false;
    }

    static String key(Object rowId, Object attempt) {
        return rowId + ":" + attempt;
    }

    /** Whether the attempt's send was refused before: its next refusal is {@link #refusedAgain}'s, not raised. */
    boolean refusedBefore(String key) {
        return refused.knows(key);
    }

    /** The attempt's send was refused for the first time (it is raised as a failure). */
    void refusedFirst(String key) {
        refused.forget(key);
        refused.tellOrCount(key);
    }

    /** Refused again: a WARN line when the last was told {@link #TELL_EVERY_MS} ago or more. */
    void refusedAgain(String key, String what, Exception failure) {
        int untold = refused.tellOrCount(key);
        if (untold >= 0) {
            LOG.warn("{}: the broker refused its request again ({}); it is sent again every sweep period until it goes or the"
                    + " attempt's deadline passes ({} more refusal(s) since the last line)", what, brokersWords(failure), untold + 1);
        }
    }

    /**
     * The innermost cause's message: the JMS producer raises Spring's UncategorizedJmsException, whose own message
     * ("Uncategorized exception occurred during JMS processing") names neither the queue nor the reason.
     */
    static String brokersWords(Throwable failure) {
        Throwable innermost = failure;
        while (innermost.getCause() != null && innermost.getCause() != innermost) {
            innermost = innermost.getCause();
        }
        return innermost.getMessage() == null ? innermost.toString() : innermost.getMessage().strip();
    }

    /** The attempt's request went. */
    void sent(String key) {
        refused.forget(key);
    }
}
