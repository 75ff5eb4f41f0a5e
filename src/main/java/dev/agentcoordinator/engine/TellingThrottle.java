package dev.agentcoordinator.engine;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * Per key (an attempt), when something that keeps happening to it was last told, and how often it happened since:
 * told at most once every period, the rest counted. At most {@link #REMEMBERED} keys are kept (the oldest go first:
 * one forgotten is told as a first one again). Per coordinator.
 */
final class TellingThrottle {
    private static final int REMEMBERED = 10_000;

    private final long periodMs;
    private final LongSupplier clock;
    private final Map<String, Told> told = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Told> eldest) {
            return size() > REMEMBERED;
        }
    };

    private record Told(long at, int since) {
    }

    /** Milliseconds on a clock that never steps back (a wall clock stepped back held every line for the step's length). */
    static long monotonicMillis() {
        return System.nanoTime() / 1_000_000;
    }

    TellingThrottle(long periodMs, LongSupplier clock) {
        this.periodMs = periodMs;
        this.clock = clock;
    }

    /**
     * It happened to {@code key} once more: -1 when it is not to be told now (it was told less than a period ago; counted),
     * else how many times it happened untold since it was last told (0 the first time).
     */
    synchronized int tellOrCount(String key) {
        long now = clock.getAsLong();
        Told last = told.get(key);
        if (last != null && now - last.at() < periodMs) {
            told.put(key, new Told(last.at(), last.since() + 1));
            return -1;
        }
        told.put(key, new Told(now, 0));
        return last == null ? 0 : last.since();
    }

    /** Whether it happened to {@code key} and was told (and not forgotten since). */
    synchronized boolean knows(String key) {
        return told.containsKey(key);
    }

    /** It is over for {@code key}: a next time is a first one. */
    synchronized void forget(String key) {
        told.remove(key);
    }
}
