package dev.agentcoordinator.definition;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The rules a set of parsed workflow definitions must satisfy before anything is compiled or run.
 * Reports every problem at once; an empty list means valid. Step rules live in {@link StepValidator}.
 */
public final class DefinitionValidator {

    /** Per-file rules for every definition, then the rules across files (unique ids and triggers). */
    public List<DefinitionError> validateAll(List<LoadedDefinition> definitions) {
        return validateAll(definitions, java.util.Set.of());
    }

    /**
     * As {@link #validateAll(List)}, except for the per-file rules of {@code namedOnly}: files whose own rules could not
     * be checked (their reading told why), whose id, trigger and completion events the rules across files count.
     */
    public List<DefinitionError> validateAll(List<LoadedDefinition> definitions, java.util.Set<LoadedDefinition> namedOnly) {
        List<DefinitionError> errors = new ArrayList<>();
        definitions.stream().filter(d -> !namedOnly.contains(d)).forEach(d -> errors.addAll(validate(d)));
        checkUniqueIds(definitions, errors);
        checkUniqueTriggers(definitions, errors);
        checkCompletionChains(definitions, "onSuccess", WorkflowDefinition::onSuccess, "success", errors);
        checkCompletionChains(definitions, "onFailure", WorkflowDefinition::onFailure, "failure", errors);
        return errors;
    }

    /** The rules of one workflow on its own. */
    public List<DefinitionError> validate(LoadedDefinition loaded) {
        List<DefinitionError> errors = new ArrayList<>();
        ValidationScope scope = ValidationScope.ofWorkflow(loaded.file(), errors);
        WorkflowDefinition workflow = loaded.definition();
        checkId(workflow, scope);
        if (checkRequired("name", workflow.name(), scope)) {
            StepValidator.checkNoPlaceholder("name", workflow.name(), scope);
        }
        checkRequired("trigger", workflow.trigger(), scope);
        checkVersion(workflow, scope);
        checkCompletionEvents(workflow, scope);
        checkWorkflowConfig(workflow.config(), scope);
        checkStepsPresent(workflow, scope);
        checkDuplicateStepIds(workflow, scope);
        StepGraph graph = new StepGraph(workflow);
        checkCycles(workflow, graph, scope);
        StepValidator steps = new StepValidator(workflow, graph);
        for (int i = 0; i < workflow.steps().size(); i++) {
            WorkflowStep step = workflow.steps().get(i);
            steps.validate(step, scope.forStep(i, step));
        }
        return errors;
    }

    private void checkId(WorkflowDefinition workflow, ValidationScope scope) {
        if (checkRequired("id", workflow.id(), scope)) {
            StepValidator.checkName("id", workflow.id(), StepValidator.ID,
                    "letters, digits, _ and -, starting with a letter (it becomes part of route ids)", scope);
        }
    }

    private boolean checkRequired(String field, String value, ValidationScope scope) {
        if (StepValidator.isBlank(value)) {
            scope.error(field, "is required");
            return false;
        }
        return true;
    }

    private void checkVersion(WorkflowDefinition workflow, ValidationScope scope) {
        if (workflow.version() != null && workflow.version() < 1) {
            scope.error("version", "must be at least 1 (was " + workflow.version() + ")");
        }
    }

    /** A completion event equal to the own trigger would start the workflow again after every run, forever. */
    private void checkCompletionEvents(WorkflowDefinition workflow, ValidationScope scope) {
        checkEventTypeLength("trigger", workflow.trigger(), scope);
        checkEventTypeLength("onSuccess", workflow.onSuccess(), scope);
        checkEventTypeLength("onFailure", workflow.onFailure(), scope);
        if (workflow.trigger() == null) {
            return;
        }
        if (workflow.trigger().equals(workflow.onSuccess())) {
            scope.error("onSuccess", "\"" + workflow.onSuccess() + "\" is the workflow's own trigger: each success would start it again");
        }
        if (workflow.trigger().equals(workflow.onFailure())) {
            scope.error("onFailure", "\"" + workflow.onFailure() + "\" is the workflow's own trigger: each failure would start it again");
        }
    }

    /** An event's type is stored in a varchar(200), and an event with a longer one is refused: it could never start or be sent. */
    private void checkEventTypeLength(String field, String type, ValidationScope scope) {
        if (type != null && type.isBlank() && !"trigger".equals(field)) {
            // the outcome event would be refused at intake (an event needs a type) and dead-lettered, every time
            scope.error(field, "is blank: name the event type to send, or leave " + field + " out");
        } else if (type != null && !type.isBlank() && !type.equals(type.strip())) {
            // event types match exactly: a trigger " X " never meets the events of type "X" its author meant
            scope.error(field, "\"" + type + "\" has spaces around it, and event types match exactly: write \"" + type.strip() + "\"");
        } else if (type != null && type.length() > WorkflowDefinition.MAX_EVENT_TYPE_LENGTH) {
            scope.error(field, "is " + type.length() + " characters long, at most " + WorkflowDefinition.MAX_EVENT_TYPE_LENGTH
                    + " (the longest event type the coordinator accepts)");
        }
    }

    private void checkWorkflowConfig(WorkflowConfig config, ValidationScope scope) {
        if (config.timeoutMs() != null && config.timeoutMs() <= 0) {
            scope.error("config.timeout_ms", "must be greater than 0 (was " + config.timeoutMs() + ")");
        }
        StepValidator.checkAtMost("config.timeout_ms", config.timeoutMs(), StepValidator.MAX_DURATION_MS, "365 days", scope);
        StepValidator.checkNotNegative("config.max_retries", config.maxRetries(), scope);
        StepValidator.checkAtMost("config.max_retries", config.maxRetries(), StepValidator.MAX_RETRIES, null, scope);
    }

    private void checkStepsPresent(WorkflowDefinition workflow, ValidationScope scope) {
        if (workflow.steps().isEmpty()) {
            scope.error("steps", "at least one step is required");
        }
    }

    private void checkDuplicateStepIds(WorkflowDefinition workflow, ValidationScope scope) {
        Map<String, Integer> firstIndex = new HashMap<>();
        for (int i = 0; i < workflow.steps().size(); i++) {
            WorkflowStep step = workflow.steps().get(i);
            if (step == null || StepValidator.isBlank(step.id())) {
                continue;
            }
            Integer first = firstIndex.putIfAbsent(step.id(), i);
            if (first != null) {
                scope.error("steps[" + i + "].id", "duplicate step id \"" + step.id() + "\" (also steps[" + first + "])");
            }
        }
    }

    /** A cycle is told at the step it starts from, as every other depends_on problem is told at its step. */
    private void checkCycles(WorkflowDefinition workflow, StepGraph graph, ValidationScope scope) {
        for (List<String> cycle : graph.cycles()) {
            ValidationScope at = scope;
            for (int i = 0; i < workflow.steps().size(); i++) {
                WorkflowStep step = workflow.steps().get(i);
                if (step != null && cycle.get(0).equals(step.id())) {
                    at = scope.forStep(i, step);
                    break;
                }
            }
            at.error("depends_on", "cycle " + String.join(" -> ", cycle) + " (each step depends on the next)");
        }
    }

    /** Workflow ids key executions and routes: two files may not claim the same one. */
    private void checkUniqueIds(List<LoadedDefinition> definitions, List<DefinitionError> errors) {
        Map<String, String> fileById = new LinkedHashMap<>();
        for (LoadedDefinition d : definitions) {
            String id = d.definition().id();
            if (StepValidator.isBlank(id)) {
                continue;
            }
            String other = fileById.putIfAbsent(id, d.file());
            if (other != null) {
                errors.add(DefinitionError.ofWorkflow(d.file(), "id",
                        "\"" + id + "\" is also the id of the workflow in " + other + " (workflow ids must be unique)"));
            }
        }
    }

    /**
     * Workflows chained by their completion events ({@code field}: onSuccess or onFailure) that lead back
     * to the first would start one another after every such outcome, forever, as a workflow whose
     * completion event is its own trigger would ({@link #checkCompletionEvents}). Each workflow has one
     * such event and each event starts one workflow, so a chain is followed until it ends or repeats;
     * a cycle is reported once, at its first file.
     */
    private void checkCompletionChains(List<LoadedDefinition> definitions, String field,
                                       java.util.function.Function<WorkflowDefinition, String> next, String outcome,
                                       List<DefinitionError> errors) {
        Map<String, LoadedDefinition> byTrigger = new HashMap<>();
        definitions.forEach(d -> {
            if (!StepValidator.isBlank(d.definition().trigger())) {
                byTrigger.putIfAbsent(d.definition().trigger(), d);
            }
        });
        java.util.Set<LoadedDefinition> reported = new java.util.HashSet<>();
        for (LoadedDefinition start : definitions) {
            List<LoadedDefinition> chain = new ArrayList<>(List.of(start));
            LoadedDefinition at = byTrigger.get(next.apply(start.definition()));
            while (at != null && at != start && !chain.contains(at) && chain.size() <= definitions.size()) {
                chain.add(at);
                at = byTrigger.get(next.apply(at.definition()));
            }
            // only a chain that returns to its start (a self-trigger is reported on its own), once per cycle
            if (at != start || chain.size() < 2 || chain.stream().anyMatch(reported::contains)) {
                continue;
            }
            reported.addAll(chain);
            List<String> steps = new ArrayList<>();
            chain.forEach(d -> steps.add(d.definition().id() + " (" + d.file() + ")"));
            steps.add(start.definition().id());
            errors.add(DefinitionError.ofWorkflow(start.file(), field, "\"" + next.apply(start.definition())
                    + "\" leads back to this workflow: " + String.join(" -> ", steps) + "; each " + outcome
                    + " would start the chain again, forever"));
        }
    }

    /** One event type starts one workflow (the spec keys workflows by trigger). */
    private void checkUniqueTriggers(List<LoadedDefinition> definitions, List<DefinitionError> errors) {
        Map<String, LoadedDefinition> byTrigger = new LinkedHashMap<>();
        for (LoadedDefinition d : definitions) {
            String trigger = d.definition().trigger();
            if (StepValidator.isBlank(trigger)) {
                continue;
            }
            LoadedDefinition other = byTrigger.putIfAbsent(trigger, d);
            if (other != null) {
                errors.add(DefinitionError.ofWorkflow(d.file(), "trigger", "\"" + trigger + "\" is also the trigger of workflow \""
                        + other.definition().id() + "\" in " + other.file() + " (one workflow per trigger)"));
            }
        }
    }
}
