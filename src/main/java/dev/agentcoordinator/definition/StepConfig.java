package dev.agentcoordinator.definition;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

/** Per-step overrides: one attempt's timeout, retries, whether its failure fails the workflow. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record StepConfig(
        @JsonProperty("timeout_ms") Long timeoutMs,
        @JsonProperty("retry_count") Integer retryCount,
        @JsonProperty("allow_failure") Boolean allowFailure,
        @JsonProperty("retry_backoff_ms") Long retryBackoffMs) {

    public static final StepConfig DEFAULTS = new StepConfig(null, null, null, null);
    public static final long DEFAULT_BACKOFF_MS = 500;

    /** Delay before attempt {@code nextAttempt} (2, 3, ...): base, 2×base, 4×base, ... */
    public long backoffBeforeAttempt(int nextAttempt) {
        long base = retryBackoffMs == null ? DEFAULT_BACKOFF_MS : retryBackoffMs;
        return base << Math.min(20, Math.max(0, nextAttempt - 2));
    }
}
