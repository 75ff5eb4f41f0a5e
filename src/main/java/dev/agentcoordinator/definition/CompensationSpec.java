package dev.agentcoordinator.definition;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

import java.util.Map;

/**
 * The action that undoes a completed step when its execution fails or is cancelled (saga).
 * Its input mapping may also read the compensated step's own input ({@code from_input}) and
 * output ({@code from_output}) besides the usual sources.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record CompensationSpec(
        @JsonProperty("agent") String agent,
        @JsonProperty("action") String action,
        @JsonProperty("input_mapping") Map<String, CompensationInput> inputMapping,
        @JsonProperty("config") StepConfig config) {

    /** One input of a compensation: an ordinary mapping, or a path into the step's own input/output. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record CompensationInput(
            @JsonProperty("from_input") String fromInput,
            @JsonProperty("from_output") String fromOutput,
            @JsonProperty("from_step") String fromStep,
            @JsonProperty("output_key") String outputKey,
            @JsonProperty("from_trigger") String fromTrigger,
            @JsonProperty("value") com.fasterxml.jackson.databind.JsonNode value) {
    }
}
