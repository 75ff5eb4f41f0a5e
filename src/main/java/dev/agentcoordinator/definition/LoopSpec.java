package dev.agentcoordinator.definition;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

import java.util.Map;

/**
 * Iterative refinement (spec pattern 4): the step is dispatched again, iteration after iteration,
 * until its own output satisfies {@code until} or {@code max_iterations} is reached. {@code feedback}
 * maps keys of the previous iteration's output into the next iteration's input.
 * <p>
 * With {@code repeat_from} the loop spans several steps (draft, then evaluate, until satisfied): each
 * iteration after the first starts again at that step, an ancestor of the loop's step, and runs every
 * step on the way from it to the loop's step once more. {@code feedback} then feeds the step it starts
 * from.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record LoopSpec(
        @JsonProperty("max_iterations") Integer maxIterations,
        @JsonProperty("until") LoopCondition until,
        @JsonProperty("feedback") Map<String, String> feedback,
        @JsonProperty("fail_when_exhausted") Boolean failWhenExhausted,
        @JsonProperty("repeat_from") String repeatFrom) {

    /** The input key through which each iteration after the first gets the previous one's whole output. */
    public static final String PREVIOUS_ITERATION_OUTPUT = "previous_iteration_output";

    public LoopSpec {
        feedback = feedback == null ? Map.of() : Map.copyOf(feedback);
    }

    /** Whether the iterations start again at another step than the loop's own ({@code loopStepId}). */
    public boolean repeatsFromAnother(String loopStepId) {
        return repeatFrom != null && !repeatFrom.equals(loopStepId);
    }

    /** The stop condition, evaluated on each iteration's output. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record LoopCondition(
            @JsonProperty("output_key") String outputKey,
            @JsonProperty("operator") String operator,
            @JsonProperty("value") com.fasterxml.jackson.databind.JsonNode value) {
    }
}
