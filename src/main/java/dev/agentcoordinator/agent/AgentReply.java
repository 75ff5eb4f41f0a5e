package dev.agentcoordinator.agent;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What a handler answers: {@link #ok(Map)} with the step's output (optionally signals and shared
 * memory for the execution's shared context), or {@link #error(String, boolean)}. Immutable; the
 * {@code with…} methods return a copy.
 */
public final class AgentReply {

    /** A signal for downstream steps (spec: Shared Context Pattern). */
    public record Signal(String signalType, Map<String, Object> data) {
        public Signal {
            Objects.requireNonNull(signalType, "signalType");
            data = data == null ? Map.of() : copyOf(data);
        }
    }

    private final boolean ok;
    private final Map<String, Object> output;
    private final List<Signal> signals;
    private final Map<String, Object> sharedMemory;
    private final String error;
    private final boolean retryable;

    private AgentReply(boolean ok, Map<String, Object> output, List<Signal> signals,
                       Map<String, Object> sharedMemory, String error, boolean retryable) {
        this.ok = ok;
        this.output = output;
        this.signals = signals;
        this.sharedMemory = sharedMemory;
        this.error = error;
        this.retryable = retryable;
    }

    public static AgentReply ok(Map<String, ?> output) {
        return new AgentReply(true, output == null ? Map.of() : copyOf(output), List.of(), Map.of(), null, false);
    }

    public static AgentReply error(String message, boolean retryable) {
        return new AgentReply(false, Map.of(), List.of(), Map.of(),
                message == null || message.isBlank() ? "agent error (no message)" : message, retryable);
    }

    public AgentReply withSignal(String signalType, Map<String, ?> data) {
        List<Signal> more = new ArrayList<>(signals);
        more.add(new Signal(signalType, data == null ? null : copyOf(data)));
        return new AgentReply(ok, output, List.copyOf(more), sharedMemory, error, retryable);
    }

    public AgentReply withSharedMemory(String key, Object value) {
        Map<String, Object> more = new LinkedHashMap<>(sharedMemory);
        more.put(Objects.requireNonNull(key, "key"), value);
        return new AgentReply(ok, output, signals, Collections.unmodifiableMap(more), error, retryable);
    }

    public boolean isOk() {
        return ok;
    }

    /** {@code "ok"} or {@code "error"}, as in the reply body. */
    public String status() {
        return ok ? "ok" : "error";
    }

    public Map<String, Object> output() {
        return output;
    }

    public List<Signal> signals() {
        return signals;
    }

    public Map<String, Object> sharedMemory() {
        return sharedMemory;
    }

    /** The error message; null for an ok reply. */
    public String error() {
        return error;
    }

    public boolean retryable() {
        return retryable;
    }

    @Override
    public String toString() {
        return ok ? "ok " + output : "error (retryable=" + retryable + "): " + error;
    }

    // a copy that, unlike Map.copyOf, keeps null values (JSON null is a legal output value)
    private static Map<String, Object> copyOf(Map<String, ?> map) {
        return Collections.unmodifiableMap(new LinkedHashMap<>(map));
    }
}
