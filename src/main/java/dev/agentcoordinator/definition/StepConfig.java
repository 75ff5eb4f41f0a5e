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
        @JsonProperty("include_context") Boolean includeContext,
        @JsonProperty("retry_backoff_max_ms") Long retryBackoffMaxMs,
        @JsonProperty("retry_jitter") Boolean retryJitter) {

    public static final StepConfig DEFAULTS = new StepConfig(null, null, null, null, null);
    public static final long DEFAULT_BACKOFF_MS = 500;

    public StepConfig(Long timeoutMs, Integer retryCount, Boolean allowFailure, Long retryBackoffMs) {
        this(timeoutMs, retryCount, allowFailure, retryBackoffMs, null);
    }

    public StepConfig(Long timeoutMs, Integer retryCount, Boolean allowFailure, Long retryBackoffMs, Boolean includeContext) {
        this(timeoutMs, retryCount, allowFailure, retryBackoffMs, includeContext, null, null);
    }

    /** True when each retry's delay is drawn between half of it and all of it (equal jitter), so that steps failing together do not retry together. */
    public boolean jitters() {
        return Boolean.TRUE.equals(retryJitter);
    }

    /** True when the step request carries {@code context}: step outputs, shared memory and signals. */
    public boolean includesContext() {
        return Boolean.TRUE.equals(includeContext);
    }

    /**
     * Delay before attempt {@code nextAttempt} (2, 3, ...), without jitter: base, 2×base, 4×base, ..., at most
     * {@code retry_backoff_max_ms} (as retry_delay, V48, computes it in the database).
     */
    public long backoffBeforeAttempt(int nextAttempt) {
        long base = retryBackoffMs == null ? DEFAULT_BACKOFF_MS : retryBackoffMs;
        long doubled = base << Math.min(20, Math.max(0, nextAttempt - 2));
        return retryBackoffMaxMs == null ? doubled : Math.min(doubled, retryBackoffMaxMs);
    }
}
