package dev.agentcoordinator.bench;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Agent-side timestamps of the six steps of the interview shape, per execution: when each request
 * arrived (monotonic and wall clock) and when its handler returned, i.e. just before the reply is sent.
 * Dispatch latency is then measured on one clock, in one JVM.
 */
final class StepClock {
    /** The interview shape: step ids in order, and which steps each one waits for. */
    static final List<String> STEPS = List.of("analyze_interview", "extract_skill_signals", "update_skills",
            "check_roadmap_impact", "adjust_roadmap", "notify_user");
    static final int[][] DEPENDENCIES = {{}, {0}, {1}, {2}, {3}, {0, 4}};

    /** Per execution: received nanos [0..5], replied nanos [6..11], received wall-clock micros [12..17]. */
    private final Map<String, long[]> byExecution = new ConcurrentHashMap<>();
    private volatile boolean recording;

    static int indexOf(String stepId) {
        return STEPS.indexOf(stepId);
    }

    void recording(boolean on) {
        recording = on;
    }

    void clear() {
        byExecution.clear();
    }

    void received(String executionId, int step) {
        if (recording && step >= 0) {
            long[] t = byExecution.computeIfAbsent(executionId, id -> new long[18]);
            t[step] = System.nanoTime();
            Instant now = Instant.now();
            t[12 + step] = TimeUnit.SECONDS.toMicros(now.getEpochSecond()) + now.getNano() / 1000;
        }
    }

    void replied(String executionId, int step) {
        if (recording && step >= 0) {
            long[] t = byExecution.get(executionId);
            if (t != null) {
                t[6 + step] = System.nanoTime();
            }
        }
    }

    /** Executions whose six steps were all seen, and whose first request arrived in [fromNanos, toNanos]. */
    Map<String, long[]> complete(long fromNanos, long toNanos) {
        Map<String, long[]> result = new ConcurrentHashMap<>();
        byExecution.forEach((id, t) -> {
            boolean all = true;
            for (int s = 0; s < 6; s++) {
                all &= t[s] != 0 && t[6 + s] != 0;
            }
            if (all && t[0] >= fromNanos && t[0] <= toNanos) {
                result.put(id, t);
            }
        });
        return result;
    }

    /**
     * Agent-side dispatch latency of every dependent step, in ms: from the handler of its last
     * dependency returning (the reply leaves) to its own request arriving at the agent.
     */
    static List<Double> replyToNextRequestMs(Map<String, long[]> executions) {
        List<Double> latencies = new ArrayList<>();
        for (long[] t : executions.values()) {
            for (int s = 0; s < 6; s++) {
                if (DEPENDENCIES[s].length == 0) {
                    continue;
                }
                long lastReply = 0;
                for (int d : DEPENDENCIES[s]) {
                    lastReply = Math.max(lastReply, t[6 + d]);
                }
                latencies.add((t[s] - lastReply) / 1e6);
            }
        }
        return latencies;
    }
}
