package dev.agentcoordinator.agent.demo;

import dev.agentcoordinator.agent.ActionHandler;
import dev.agentcoordinator.agent.AgentReply;
import dev.agentcoordinator.agent.AgentRequest;
import dev.agentcoordinator.agent.NonRetryableAgentException;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What the demo agents share: a stable hash (outputs depend on the input only), reading loosely
 * typed JSON values, and the knobs a demo trigger can pass in a step's input.
 */
final class DemoSupport {

    static final List<String> SKILL_POOL = List.of(
            "java", "sql", "system_design", "communication", "testing", "algorithms", "cloud", "security");

    /** Upper bound for {@code simulate_latency_ms}, so a typo cannot park a consumer for hours. */
    private static final long MAX_LATENCY_MILLIS = 60_000;

    private DemoSupport() {
    }

    /**
     * Wraps a handler with the demo knobs a step's input may carry:
     * {@code simulate_latency_ms} (sleep first, to make parallelism visible),
     * {@code fail_until_attempt} (a retryable failure while {@code attempt} is below it, to show retries) and
     * {@code simulate_error} (a non-retryable failure with that message).
     */
    static ActionHandler withDemoKnobs(ActionHandler handler) {
        return request -> {
            long latency = Math.min(request.inputLong("simulate_latency_ms", 0), MAX_LATENCY_MILLIS);
            if (latency > 0) {
                Thread.sleep(latency);
            }
            long failUntil = request.inputLong("fail_until_attempt", 0);
            if (request.attempt() < failUntil) {
                // answered as an agent answers a failure it expects (a WARN with a stack trace is for one it did not)
                return AgentReply.error("simulated transient failure of " + request.action()
                        + " on attempt " + request.attempt() + " (succeeds from attempt " + failUntil + ")", true);
            }
            String simulatedError = request.inputString("simulate_error");
            // false or "" switches it off: a trigger's flag mapped as it is ({"simulate_error": false}) failed the step
            if (simulatedError != null && !simulatedError.isEmpty() && !"false".equals(simulatedError)) {
                throw new NonRetryableAgentException(simulatedError);
            }
            return handler.handle(request);
        };
    }

    /** A non-negative hash that is the same in every JVM (SHA-256, a little honest CPU work). */
    static int stableHash(String text) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
            return ((digest[0] & 0x7f) << 24) | ((digest[1] & 0xff) << 16) | ((digest[2] & 0xff) << 8) | (digest[3] & 0xff);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JRE", e);
        }
    }

    /** {@code count} distinct skills chosen by the seed. */
    static List<String> pickSkills(String seed, int count) {
        List<String> pool = new ArrayList<>(SKILL_POOL);
        List<String> picked = new ArrayList<>();
        int hash = stableHash(seed);
        for (int i = 0; i < count && !pool.isEmpty(); i++) {
            picked.add(pool.remove(Math.floorMod(hash + i * 7, pool.size())));
        }
        return picked;
    }

    /** The JSON objects of an array value (others are skipped), or empty. */
    @SuppressWarnings("unchecked")
    static List<Map<String, Object>> objects(Object value) {
        if (!(value instanceof List<?> list)) {
            return List.of();
        }
        return list.stream().filter(Map.class::isInstance).map(item -> (Map<String, Object>) item).toList();
    }

    /** The text items of an array value, or empty. */
    static List<String> texts(Object value) {
        if (!(value instanceof List<?> list)) {
            return List.of();
        }
        return list.stream().filter(item -> item != null).map(String::valueOf).toList();
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> object(Object value) {
        return value instanceof Map<?, ?> map ? (Map<String, Object>) map : Map.of();
    }

    static int intOf(Object value, int fallback) {
        if (value instanceof Number number) {
            return number.intValue();
        }
        if (value instanceof String text) {
            try {
                return (int) Math.round(Double.parseDouble(text.trim()));
            } catch (NumberFormatException notANumber) {
                return fallback;
            }
        }
        return fallback;
    }

    /** A required JSON-object input; its absence fails the step without retries. */
    static Map<String, Object> requiredObject(AgentRequest request, String key) {
        Map<String, Object> value = request.inputMap(key);
        if (value.isEmpty()) {
            throw new NonRetryableAgentException("input '" + key + "' (an object) is missing for "
                    + request.agent() + "." + request.action() + " (step " + request.stepId() + ")");
        }
        return value;
    }

    /** An ordered JSON object from alternating keys and values (ordered so stored outputs read well). */
    static Map<String, Object> fields(Object... keysAndValues) {
        Map<String, Object> object = new LinkedHashMap<>();
        for (int i = 0; i < keysAndValues.length; i += 2) {
            object.put((String) keysAndValues[i], keysAndValues[i + 1]);
        }
        return object;
    }

    static double round2(double value) {
        return Math.round(value * 100.0) / 100.0;
    }
}
