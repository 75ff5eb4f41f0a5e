package dev.agentcoordinator.definition;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;

/** Run a step only when {@code step}'s output at {@code output_key} satisfies {@code operator value}. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record StepCondition(
        @JsonProperty("step") String step,
        @JsonProperty("output_key") String outputKey,
        @JsonProperty("operator") String operator,
        @JsonProperty("value") JsonNode value) {
}
