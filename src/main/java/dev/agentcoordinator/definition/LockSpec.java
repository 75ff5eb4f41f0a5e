package dev.agentcoordinator.definition;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * A resource lock a step holds while it runs (spec: Conflict Resolution). {@code resource_id} is
 * mapped like an input ({@code from_trigger} or {@code from_step}/{@code output_key}).
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record LockSpec(
        @JsonProperty("resource_type") String resourceType,
        @JsonProperty("resource_id") InputMapping resourceId,
        @JsonProperty("ttl_ms") Long ttlMs) {
}
