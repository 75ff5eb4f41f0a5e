package dev.agentcoordinator.definition;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

/** Workflow-wide settings: whole-execution timeout, default retries, partial success. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record WorkflowConfig(
        @JsonProperty("timeout_ms") Long timeoutMs,
        @JsonProperty("max_retries") Integer maxRetries,
        @JsonProperty("allow_partial_success") Boolean allowPartialSuccess) {

    public static final WorkflowConfig DEFAULTS = new WorkflowConfig(null, null, null);

    public long timeoutMsOrDefault() {
        return timeoutMs == null ? WorkflowDefinition.DEFAULT_TIMEOUT_MS : timeoutMs;
    }

    public boolean partialSuccessAllowed() {
        return Boolean.TRUE.equals(allowPartialSuccess);
    }
}
