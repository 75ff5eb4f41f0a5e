package dev.agentcoordinator.definition;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;

/**
 * Where one input value comes from: the trigger payload ({@code from_trigger}), a step's output
 * ({@code from_step} + {@code output_key}), the execution's shared memory ({@code from_shared_memory}),
 * the latest signal of a type ({@code from_signal}), or a literal {@code value}. Paths may be dotted.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record InputMapping(
        @JsonProperty("from_step") String fromStep,
        @JsonProperty("output_key") String outputKey,
        @JsonProperty("from_trigger") String fromTrigger,
        @JsonProperty("from_shared_memory") String fromSharedMemory,
        @JsonProperty("from_signal") String fromSignal,
        @JsonProperty("value") JsonNode value) {

    public static InputMapping fromTrigger(String path) {
        return new InputMapping(null, null, path, null, null, null);
    }

    public static InputMapping fromStep(String step, String outputKey) {
        return new InputMapping(step, outputKey, null, null, null, null);
    }
}
