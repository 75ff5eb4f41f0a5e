package dev.agentcoordinator.engine;

import dev.agentcoordinator.definition.InputMapping;
import dev.agentcoordinator.definition.WorkflowDefinition;
import dev.agentcoordinator.definition.WorkflowStep;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Decides, before a step's completion is recorded, which of its dependents can start in the same
 * statement (complete-and-start.sql), so that a reply costs one round trip instead of two.
 * <p>
 * A dependent qualifies when its decision rests only on facts that never change: no locks, loop,
 * request context, shared memory or signals, and every step it depends on and its condition and input
 * read has completed (this one with the reply's output, the others as this JVM saw them complete,
 * {@link ExecutionFacts}). Its {@link StepPlanner} then decides exactly as it would on the database's
 * context, provided the dependent is still pending and the execution still running, which the
 * statement checks. A fan-in whose other dependencies all completed qualifies too: the statement also
 * removes the partial join its earlier arrivals left in the aggregator's repository. A dependent that
 * does not qualify, or that the planner would skip, goes the usual way: its step route (or its join)
 * decides on the context.
 */
final class DependentStarts {

    /**
     * The dependents to start: their rows, inputs and, for a fan-in, its partial join's key
     * ({@code <execution>:<step>}).
     */
    record Plan(Map<String, String> inputByRowId, Map<String, String> stepByRowId, Map<String, String> joinKeyByRowId) {
        static final Plan NONE = new Plan(Map.of(), Map.of(), Map.of());

        boolean isEmpty() {
            return inputByRowId.isEmpty();
        }

        /** complete-and-start.sql's {@code starts}: [{"row_id": …, "input": {…}, "join_key": …}, …], or null. */
        String startsJson() {
            if (isEmpty()) {
                return null;
            }
            StringBuilder json = new StringBuilder("[");
            for (Map.Entry<String, String> start : inputByRowId.entrySet()) {
                if (json.length() > 1) {
                    json.append(',');
                }
                json.append("{\"row_id\":\"").append(start.getKey()).append("\",\"input\":").append(start.getValue());
                String joinKey = joinKeyByRowId.get(start.getKey());
                if (joinKey != null) {
                    json.append(",\"join_key\":").append(Json.write(joinKey));
                }
                json.append('}');
            }
            return json.append(']').toString();
        }
    }

    private record Candidate(WorkflowStep step, StepPlanner planner, Set<String> reads) {
    }

    private final String completingStep;
    private final List<Candidate> candidates = new ArrayList<>();
    private final int dependents;

    DependentStarts(WorkflowDefinition workflow, WorkflowStep completing) {
        this.completingStep = completing.id();
        List<WorkflowStep> all = workflow.dependentsOf(completing.id());
        this.dependents = all.size();
        Set<String> repeated = workflow.repeatedSteps();
        if (repeated.contains(completing.id())) {
            // a loop's dependents run after its last iteration, which complete-and-iterate decides; those of
            // a step it repeats are in the loop, and each iteration decides them on the database's context
            return;
        }
        for (WorkflowStep dependent : all) {
            Set<String> reads = readsOnlyCompletedFacts(workflow, dependent, repeated);
            if (reads != null) {
                candidates.add(new Candidate(dependent, new StepPlanner(workflow, dependent), reads));
            }
        }
    }

    /** How many steps depend on the completing one. */
    int dependents() {
        return dependents;
    }

    boolean anyCandidate() {
        return !candidates.isEmpty();
    }

    /**
     * The dependents of the completing step that start with its completion, given the reply's output
     * and what this JVM knows of the execution (null: nothing, so none do).
     */
    Plan plan(ExecutionFacts facts, String outputJson) {
        if (facts == null || candidates.isEmpty() || facts.rowId(completingStep) == null) {
            return Plan.NONE;
        }
        Map<String, String> inputs = new HashMap<>(4);
        Map<String, String> steps = new HashMap<>(4);
        Map<String, String> joinKeys = new HashMap<>(2);
        ExecutionContext context = null;
        for (Candidate candidate : candidates) {
            String rowId = facts.rowId(candidate.step().id());
            if (rowId == null || !allCompleted(candidate.reads(), facts)) {
                continue;
            }
            if (context == null) {
                context = contextOf(facts, outputJson);
            }
            StepDecision decision = candidate.planner().decide(context);
            if (decision.kind() == StepDecision.Kind.DISPATCH) {
                inputs.put(rowId, decision.inputJson());
                steps.put(rowId, candidate.step().id());
                if (candidate.step().dependsOn().size() > 1) {
                    joinKeys.put(rowId, FanInRoutes.joinKey(facts.executionId(), candidate.step().id()));
                }
            }
        }
        return inputs.isEmpty() ? Plan.NONE : new Plan(inputs, steps, joinKeys);
    }

    private boolean allCompleted(Set<String> reads, ExecutionFacts facts) {
        for (String step : reads) {
            if (!step.equals(completingStep) && facts.output(step) == null) {
                return false;
            }
        }
        return true;
    }

    /**
     * The context as the database would show it right after this completion, as far as the planner
     * looks: the execution running, the completed steps with their outputs, every other step pending.
     */
    private ExecutionContext contextOf(ExecutionFacts facts, String outputJson) {
        Map<String, ExecutionContext.StepState> steps = new HashMap<>();
        for (Map.Entry<String, String> row : facts.rowIds().entrySet()) {
            String stepId = row.getKey();
            String output = stepId.equals(completingStep) ? outputJson : facts.output(stepId);
            steps.put(stepId, new ExecutionContext.StepState(row.getValue(), stepId,
                    output == null ? StepStatus.PENDING : StepStatus.COMPLETED, output, 0));
        }
        return ExecutionContext.running(facts.triggerJson(), steps);
    }

    /**
     * The steps that must have completed for the dependent to be decided ahead: its dependencies and
     * what its condition and input read; null when its decision needs more than the trigger and
     * completed outputs.
     */
    private Set<String> readsOnlyCompletedFacts(WorkflowDefinition workflow, WorkflowStep dependent, Set<String> repeated) {
        if (repeated.contains(dependent.id()) || !dependent.locks().isEmpty() || dependent.config().includesContext()) {
            return null;
        }
        Set<String> reads = new LinkedHashSet<>(dependent.dependsOn());
        for (InputMapping mapping : dependent.inputMapping().values()) {
            if (mapping.fromSharedMemory() != null || mapping.fromSignal() != null) {
                return null;
            }
            if (mapping.fromStep() != null) {
                reads.add(mapping.fromStep());
            }
        }
        if (dependent.condition() != null) {
            reads.add(dependent.condition().step());
        }
        for (String step : reads) {
            if (repeated.contains(step) || workflow.step(step).isEmpty()) {   // its latest output changes per iteration
                return null;
            }
        }
        return reads;
    }
}
