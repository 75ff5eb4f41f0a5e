package dev.agentcoordinator.agent;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;

import java.time.Instant;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A step request as the coordinator sends it to {@code agent.<agent>} (CONTRACT.md section 2).
 * {@code input} holds the step's mapped inputs; {@code context} optionally carries
 * {@code step_outputs}, {@code shared_memory} and {@code signals} of the execution. {@code progress} is
 * what an earlier attempt of the step last reported in a heartbeat ({@link AgentProgress}), null when
 * none did: a retry can resume from it. {@code kind} is {@code "compensation"} on a request that undoes step
 * {@code stepId} (its {@code action} is the compensation's), null on a step's own.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record AgentRequest(
        @JsonProperty("execution_id") String executionId,
        @JsonProperty("workflow_id") String workflowId,
        @JsonProperty("step_id") String stepId,
        @JsonProperty("agent") String agent,
        @JsonProperty("action") String action,
        @JsonProperty("attempt") int attempt,
        @JsonProperty("iteration") int iteration,
        @JsonProperty("deadline") Instant deadline,
        @JsonProperty("input") Map<String, Object> input,
        @JsonProperty("context") Map<String, Object> context,
        @JsonProperty("progress") Object progress,
        @JsonProperty("kind") String kind) {

    /** A step's own request without progress from an earlier attempt. */
    public AgentRequest(String executionId, String workflowId, String stepId, String agent, String action, int attempt,
                        int iteration, Instant deadline, Map<String, Object> input, Map<String, Object> context) {
        this(executionId, workflowId, stepId, agent, action, attempt, iteration, deadline, input, context, null, null);
    }

    /** Whether it undoes step {@code stepId} (the step's {@code compensate}) rather than runs it. */
    public boolean isCompensation() {
        return "compensation".equals(kind);
    }

    public AgentRequest {
        // copies that allow null values (JSON null is a legal input value)
        input = input == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(input));
        context = context == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(context));
    }

    /** The raw input value, or null when absent. */
    public Object input(String key) {
        return input.get(key);
    }

    /** The input as text (numbers and booleans are converted), or null when absent. */
    public String inputString(String key) {
        Object value = input.get(key);
        return value == null ? null : String.valueOf(value);
    }

    public String inputString(String key, String fallback) {
        String value = inputString(key);
        return value == null ? fallback : value;
    }

    /** The input as non-blank text; a missing value fails the step without retries. */
    public String requiredInputString(String key) {
        String value = inputString(key);
        if (value == null || value.isBlank()) {
            throw new NonRetryableAgentException(
                    "input '" + key + "' is missing for " + agent + "." + action + " (step " + stepId + ")");
        }
        return value;
    }

    /** The input as a number (JSON number or numeric text), else {@code fallback}. */
    public double inputDouble(String key, double fallback) {
        Object value = input.get(key);
        if (value instanceof Number number) {
            return number.doubleValue();
        }
        if (value instanceof String text) {
            try {
                return Double.parseDouble(text.trim());
            } catch (NumberFormatException notANumber) {
                return fallback;
            }
        }
        return fallback;
    }

    public long inputLong(String key, long fallback) {
        Object value = input.get(key);
        // exact for integers: through a double, one above 2^53 (an id) would come back as another number
        if (value instanceof Long || value instanceof Integer || value instanceof Short || value instanceof Byte) {
            return ((Number) value).longValue();
        }
        if (value instanceof java.math.BigInteger big && big.bitLength() < 64) {
            return big.longValue();
        }
        if (value instanceof String text) {
            try {
                return Long.parseLong(text.trim());
            } catch (NumberFormatException notAnInteger) {
                // a fraction or an exponent: rounded below
            }
        }
        return Math.round(inputDouble(key, fallback));
    }

    /** The input as a JSON object, or an empty map when absent or not an object. */
    @SuppressWarnings("unchecked")
    public Map<String, Object> inputMap(String key) {
        return input.get(key) instanceof Map<?, ?> map ? (Map<String, Object>) map : Map.of();
    }

    /** The input as a JSON array, or an empty list when absent or not an array. */
    @SuppressWarnings("unchecked")
    public List<Object> inputList(String key) {
        return input.get(key) instanceof List<?> list ? (List<Object>) list : List.of();
    }

    /** What an earlier attempt last reported as a JSON object ({@link AgentProgress#report}), or an empty map. */
    @SuppressWarnings("unchecked")
    public Map<String, Object> progressMap() {
        return progress instanceof Map<?, ?> map ? (Map<String, Object>) map : Map.of();
    }

    /** The execution's shared memory as sent in {@code context.shared_memory}, or empty. */
    @SuppressWarnings("unchecked")
    public Map<String, Object> sharedMemory() {
        return context.get("shared_memory") instanceof Map<?, ?> map ? (Map<String, Object>) map : Map.of();
    }

    /** The signals of earlier steps with the given {@code signal_type}, from {@code context.signals}. */
    @SuppressWarnings("unchecked")
    public List<Map<String, Object>> signals(String signalType) {
        if (!(context.get("signals") instanceof List<?> signals)) {
            return List.of();
        }
        return signals.stream()
                .filter(signal -> signal instanceof Map<?, ?> map && signalType.equals(map.get("signal_type")))
                .map(signal -> (Map<String, Object>) signal)
                .toList();
    }
}
