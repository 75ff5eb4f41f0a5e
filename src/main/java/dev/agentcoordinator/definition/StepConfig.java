package dev.agentcoordinator.definition;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * Per-step overrides: one attempt's timeout, retries, whether its failure fails the workflow, and
 * whether the step request carries the execution's context ({@code include_context}, extension).
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record StepConfig(
        @JsonProperty("timeout_ms") Long timeoutMs,
        @JsonProperty("retry_count") Integer retryCount,
        @JsonProperty("allow_failure") Boolean allowFailure,
        @JsonProperty("retry_backoff_ms") Long retryBackoffMs,
        @JsonProperty("include_context") Boolean includeContext) {

    public static final StepConfig DEFAULTS = new StepConfig(null, null, null, null, null);
    public static final long DEFAULT_BACKOFF_MS = 500;

    public StepConfig(Long timeoutMs, Integer retryCount, Boolean allowFailure, Long retryBackoffMs) {
        this(timeoutMs, retryCount, allowFailure, retryBackoffMs, null);
    }

    /** True when the step request carries {@code context}: step outputs, shared memory and signals. */
    public boolean includesContext() {
        return Boolean.TRUE.equals(includeContext);
    }

    /** Delay before attempt {@code nextAttempt} (2, 3, ...): base, 2×base, 4×base, ... */
    public long backoffBeforeAttempt(int nextAttempt) {
        long base = retryBackoffMs == null ? DEFAULT_BACKOFF_MS : retryBackoffMs;
        return base << Math.min(20, Math.max(0, nextAttempt - 2));
    }
}
