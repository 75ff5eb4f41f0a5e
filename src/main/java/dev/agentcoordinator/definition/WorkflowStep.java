package dev.agentcoordinator.definition;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One step of a workflow: a request to {@code agent}'s queue asking it to perform {@code action}.
 * {@code loop}, {@code compensate} and {@code locks} are this project's extensions of the spec.
 */
@JsonInclude(JsonInclude.Include.NON_EMPTY)
public record WorkflowStep(
        @JsonProperty("id") String id,
        @JsonProperty("agent") String agent,
        @JsonProperty("action") String action,
        @JsonProperty("description") String description,
        @JsonProperty("depends_on") List<String> dependsOn,
        @JsonProperty("input_mapping") Map<String, InputMapping> inputMapping,
        @JsonProperty("condition") StepCondition condition,
        @JsonProperty("config") StepConfig config,
        @JsonProperty("loop") LoopSpec loop,
        @JsonProperty("compensate") CompensationSpec compensate,
        @JsonProperty("locks") List<LockSpec> locks) {

    public WorkflowStep {
        dependsOn = dependsOn == null ? List.of() : List.copyOf(dependsOn);
        inputMapping = inputMapping == null ? Map.of() : java.util.Collections.unmodifiableMap(new LinkedHashMap<>(inputMapping));
        config = config == null ? StepConfig.DEFAULTS : config;
        locks = locks == null ? List.of() : List.copyOf(locks);
    }

    public boolean isLoop() {
        return loop != null;
    }

    /** The agents this step sends requests to: its own, and its compensation's when it declares one. */
    @com.fasterxml.jackson.annotation.JsonIgnore
    public List<String> agents() {
        return compensate == null ? List.of(agent) : List.of(agent, compensate.agent());
    }

    public boolean allowsFailure() {
        return Boolean.TRUE.equals(config.allowFailure());
    }
}
