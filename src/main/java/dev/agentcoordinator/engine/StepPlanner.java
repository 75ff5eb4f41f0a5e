package dev.agentcoordinator.engine;

import com.fasterxml.jackson.databind.JsonNode;
import dev.agentcoordinator.definition.Operator;
import dev.agentcoordinator.definition.StepCondition;
import dev.agentcoordinator.definition.WorkflowDefinition;
import dev.agentcoordinator.definition.WorkflowStep;

import java.util.List;
import java.util.Optional;

/**
 * Decides, from the database's view of an execution, whether a step waits, is skipped or runs:
 * <ul>
 *   <li>a dependency failed: skipped ("dependency X failed");</li>
 *   <li>every dependency was skipped: skipped (branch not taken, or, when a step further up failed,
 *       "every dependency was skipped (…) after step X failed further up");</li>
 *   <li>its condition is false: skipped ("condition not met");</li>
 *   <li>otherwise it runs with the input its mapping builds.</li>
 * </ul>
 */
public final class StepPlanner {
    private final WorkflowStep step;
    /** The steps this one depends on directly or further up, in definition order. */
    private final List<String> ancestors;

    public StepPlanner(WorkflowDefinition workflow, WorkflowStep step) {
        this.step = step;
        java.util.Set<String> above = workflow.ancestorsOf(step.id());
        this.ancestors = workflow.steps().stream().map(WorkflowStep::id).filter(above::contains).toList();
    }

    /**
     * A running step's request is sent again only if the row names this message as the one that started
     * the attempt (dispatched_by), which the step route checks against the row: its first delivery may
     * have marked the step running and then died before its request left.
     */
    public StepDecision decide(List<java.util.Map<String, Object>> contextRows) {
        Optional<ExecutionContext> found = ExecutionContext.fromRows(contextRows);
        if (found.isEmpty()) {
            return StepDecision.nothing("execution not found");
        }
        return decide(found.get());
    }

    /** As {@link #decide(List)}, on a context already built (see {@link DependentStarts}). */
    public StepDecision decide(ExecutionContext context) {
        if (!context.isRunning()) {
            return StepDecision.nothing("execution is no longer running");
        }
        Optional<ExecutionContext.StepState> own = context.step(step.id());
        if (own.isPresent() && own.get().status() == StepStatus.RUNNING) {
            return StepDecision.resendIfStartedByThisMessage(own.get().rowId());
        }
        if (own.isPresent() && own.get().status() == StepStatus.COMPLETED) {
            return StepDecision.finishIfOver(own.get().rowId());
        }
        if (own.isPresent() && own.get().status().isSettled()) {
            return StepDecision.passOn(own.get().rowId());
        }
        if (own.isEmpty() || own.get().status() != StepStatus.PENDING) {
            return StepDecision.nothing("step already decided");
        }
        String rowId = own.get().rowId();

        boolean anyCompleted = false;
        for (String dependency : step.dependsOn()) {
            StepStatus status = context.step(dependency).map(ExecutionContext.StepState::status).orElse(StepStatus.PENDING);
            if (!status.isSettled()) {
                return StepDecision.waitFor("waiting for " + dependency);
            }
            if (status.isUnsuccessful()) {
                return StepDecision.skip(rowId, "dependency " + dependency + " " + status.db());
            }
            anyCompleted |= status == StepStatus.COMPLETED;
        }
        if (!step.dependsOn().isEmpty() && !anyCompleted) {
            // a skip that came down from a failure further up is no branch not taken: it names that failure
            List<String> failedAbove = ancestors.stream()
                    .filter(id -> context.step(id).map(s -> s.status() == StepStatus.FAILED).orElse(false)).toList();
            if (!failedAbove.isEmpty()) {
                return StepDecision.skip(rowId, "every dependency was skipped (" + String.join(", ", step.dependsOn()) + ") after step"
                        + (failedAbove.size() == 1 ? " " : "s ") + String.join(", ", failedAbove) + " failed further up");
            }
            return StepDecision.skip(rowId, "branch not taken: every dependency was skipped (" + String.join(", ", step.dependsOn())
                    + "; see why on " + (step.dependsOn().size() == 1 ? "it" : "them") + ")");
        }
        if (step.condition() != null && !conditionHolds(step.condition(), context)) {
            return StepDecision.skip(rowId, "condition not met: " + describe(step.condition(), context));
        }
        return StepDecision.dispatch(rowId, Json.write(InputResolver.resolve(step.inputMapping(), context)));
    }

    /**
     * As the spec's evaluateCondition ({@code if (!stepResult?.output) return false}): a step that did not complete
     * (skipped, or failed with allow_failure) meets no condition, not even not_exists or ne.
     */
    private static boolean conditionHolds(StepCondition condition, ExecutionContext context) {
        if (!completed(condition, context)) {
            return false;
        }
        Operator operator = Operator.parse(condition.operator()).orElseThrow();
        return operator.test(actual(condition, context), condition.value());
    }

    private static boolean completed(StepCondition condition, ExecutionContext context) {
        return context.step(condition.step()).filter(s -> s.status() == StepStatus.COMPLETED).isPresent();
    }

    private static JsonNode actual(StepCondition condition, ExecutionContext context) {
        return context.step(condition.step())
                .filter(s -> s.status() == StepStatus.COMPLETED)
                .map(s -> Json.at(s.output(), condition.outputKey()))
                .orElse(null);
    }

    private static String describe(StepCondition condition, ExecutionContext context) {
        if (!completed(condition, context)) {
            return condition.step() + " did not complete ("
                    + context.step(condition.step()).map(s -> s.status().db()).orElse("not run") + "), so no condition on it holds";
        }
        JsonNode actual = actual(condition, context);
        return condition.step() + "." + condition.outputKey() + " " + condition.operator()
                // exists / not_exists may carry a value (the spec's type asks for one) that they do not read
                + (condition.value() == null || !Operator.parse(condition.operator()).map(Operator::needsValue).orElse(true)
                        ? "" : " " + condition.value())
                + " (was " + (Json.isPresent(actual) ? actual.toString() : actual != null && actual.isNull() ? "null" : "absent") + ")";
    }
}
