package dev.agentcoordinator.definition;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

import java.util.List;
import java.util.Optional;

/**
 * A workflow as the spec's {@code WorkflowDefinition} declares it. Field names are the spec's, so a
 * definition written for the TypeScript sketch loads unchanged.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record WorkflowDefinition(
        @JsonProperty("id") String id,
        @JsonProperty("name") String name,
        @JsonProperty("trigger") String trigger,
        @JsonProperty("version") Integer version,
        @JsonProperty("steps") List<WorkflowStep> steps,
        @JsonProperty("onSuccess") String onSuccess,
        @JsonProperty("onFailure") String onFailure,
        @JsonProperty("config") WorkflowConfig config) {

    public static final long DEFAULT_TIMEOUT_MS = 300_000;
    /** The longest event type (trigger, onSuccess, onFailure) an event may have: agent_events.type is varchar(200). */
    public static final int MAX_EVENT_TYPE_LENGTH = 200;

    public WorkflowDefinition {
        steps = steps == null ? List.of() : List.copyOf(steps);
        config = config == null ? WorkflowConfig.DEFAULTS : config;
    }

    public int versionOrDefault() {
        return version == null ? 1 : version;
    }

    public Optional<WorkflowStep> step(String stepId) {
        // a loop, not a stream: every reply looks its step up here
        for (WorkflowStep step : steps) {
            if (step.id() != null && step.id().equals(stepId)) {
                return Optional.of(step);
            }
        }
        return Optional.empty();
    }

    /** Steps that name {@code stepId} in their {@code depends_on}, in definition order. */
    public List<WorkflowStep> dependentsOf(String stepId) {
        return steps.stream().filter(s -> s.dependsOn().contains(stepId)).toList();
    }

    public List<WorkflowStep> rootSteps() {
        return steps.stream().filter(s -> s.dependsOn().isEmpty()).toList();
    }

    /** Attempts for a step: 1 + (its retry_count, else the workflow's max_retries). */
    public int maxAttempts(WorkflowStep step) {
        Integer retries = step.config().retryCount() != null ? step.config().retryCount() : config.maxRetries();
        return 1 + (retries == null ? 0 : Math.max(0, retries));
    }

    /** Attempts for a step's compensation: 1 + (its compensate.config.retry_count, else max_retries). */
    public int compensationAttempts(WorkflowStep step) {
        StepConfig own = step.compensate().config();
        Integer retries = own != null && own.retryCount() != null ? own.retryCount() : config.maxRetries();
        return 1 + (retries == null ? 0 : Math.max(0, retries));
    }

    /** Bound on one attempt of a compensation: its own timeout_ms, else the step's attempt timeout. */
    public long compensationTimeoutMs(WorkflowStep step) {
        StepConfig own = step.compensate().config();
        return own != null && own.timeoutMs() != null ? own.timeoutMs() : attemptTimeoutMs(step);
    }

    public boolean hasCompensations() {
        return steps.stream().anyMatch(s -> s.compensate() != null);
    }

    /** Every step that depends on {@code stepId}, directly or through other steps. */
    public java.util.Set<String> descendantsOf(String stepId) {
        java.util.Set<String> found = new java.util.LinkedHashSet<>();
        java.util.Deque<String> todo = new java.util.ArrayDeque<>(List.of(stepId));
        while (!todo.isEmpty()) {
            for (WorkflowStep dependent : dependentsOf(todo.pop())) {
                if (found.add(dependent.id())) {
                    todo.push(dependent.id());
                }
            }
        }
        return found;
    }

    /** Every step {@code stepId} depends on, directly or through other steps. */
    public java.util.Set<String> ancestorsOf(String stepId) {
        return new StepGraph(this).ancestorsOf(stepId);
    }

    /**
     * The steps each iteration of {@code loopStep}'s loop runs, in definition order: the step itself, and with
     * {@code repeat_from} also that step and every step on a depends_on path from it to the loop's step.
     */
    public List<String> iterationSteps(WorkflowStep loopStep) {
        String from = loopStep.loop() == null ? null : loopStep.loop().repeatFrom();
        if (from == null || from.equals(loopStep.id())) {
            return List.of(loopStep.id());
        }
        java.util.Set<String> after = descendantsOf(from);
        java.util.Set<String> before = ancestorsOf(loopStep.id());
        return steps.stream().map(WorkflowStep::id)
                .filter(id -> id != null && (id.equals(from) || id.equals(loopStep.id()) || after.contains(id) && before.contains(id)))
                .distinct().toList();
    }

    /** The steps some loop runs more than once (loop steps and the steps their iterations repeat). */
    public java.util.Set<String> repeatedSteps() {
        java.util.Set<String> repeated = new java.util.HashSet<>();
        for (WorkflowStep step : steps) {
            if (step != null && step.isLoop()) {
                repeated.addAll(iterationSteps(step));
            }
        }
        return repeated;
    }

    /** Bound on one attempt of a step: its timeout_ms, else the workflow's timeout_ms. */
    public long attemptTimeoutMs(WorkflowStep step) {
        return step.config().timeoutMs() != null ? step.config().timeoutMs() : config.timeoutMsOrDefault();
    }
}
