package dev.agentcoordinator.definition;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/** The rules for one step of a workflow; each rule is one method and reports through a {@link ValidationScope}. */
final class StepValidator {
    /** Agent names become queue names ({@code agent.<agent>}), so they are kept to a safe alphabet. */
    static final Pattern AGENT_NAME = Pattern.compile("[a-z][a-z0-9_-]*");
    /** Workflow and step ids become part of route ids ({@code wf.<workflow>.<step>}) and database keys. */
    static final Pattern ID = Pattern.compile("[A-Za-z][A-Za-z0-9_-]*");
    /** The longest timeout or lock ttl: a deadline is now() plus it, in PostgreSQL's interval arithmetic. */
    static final long MAX_DURATION_MS = 365L * 24 * 3600 * 1000;
    /** The most retries: attempts are counted in integers. */
    static final long MAX_RETRIES = 1000;
    static final long MAX_BACKOFF_MS = 24L * 3600 * 1000;
    /** The database columns holding workflow ids, step ids, agents and actions are varchar(100). */
    static final int MAX_NAME_LENGTH = 100;

    private static final String INPUT_SOURCES = "from_trigger, from_step + output_key, from_shared_memory, from_signal or value";
    private static final String COMPENSATION_SOURCES = "from_input, from_output, from_trigger, from_step + output_key or value";
    private static final String LOCK_SOURCES = "from_trigger or from_step + output_key";
    private static final String PREVIOUS_ITERATION_TAKEN = "is the key through which each iteration after the first gets the"
            + " previous iteration's whole output, set by the coordinator: choose another name";

    private final WorkflowDefinition workflow;
    private final StepGraph graph;

    StepValidator(WorkflowDefinition workflow, StepGraph graph) {
        this.workflow = workflow;
        this.graph = graph;
    }

    void validate(WorkflowStep step, ValidationScope scope) {
        if (step == null) {
            scope.error(null, "empty step (a list item without fields)");
            return;
        }
        checkId(step, scope);
        checkAgent("agent", step.agent(), scope);
        checkAction("action", step.action(), scope);
        checkDependsOn(step, scope);
        checkCondition(step.condition(), scope);
        step.inputMapping().forEach((key, mapping) -> {
            if (key.isBlank()) {   // the agent's input would get a key "" it cannot have meant
                scope.error("input_mapping", "has an empty key: each key names an input of the step's request");
            }
            checkInputMapping("input_mapping." + key, mapping, scope);
        });
        if ((step.loop() != null || isRepeatedFrom(step.id())) && step.inputMapping().containsKey(LoopSpec.PREVIOUS_ITERATION_OUTPUT)) {
            scope.error("input_mapping." + LoopSpec.PREVIOUS_ITERATION_OUTPUT, PREVIOUS_ITERATION_TAKEN);
        }
        checkStepConfig("config", step.config(), false, scope);
        checkLoop(step, scope);
        checkCompensation(step.compensate(), scope);
        for (int i = 0; i < step.locks().size(); i++) {
            checkLock("locks[" + i + "]", step.locks().get(i), scope);
        }
    }

    // ---- identity --------------------------------------------------------------------------

    private void checkId(WorkflowStep step, ValidationScope scope) {
        if (scope.stepId() == null) {
            scope.error("id", "is required");
        } else {
            checkName("id", step.id(), ID, "letters, digits, _ and -, starting with a letter (it becomes part of route ids)", scope);
        }
    }

    private void checkAgent(String field, String agent, ValidationScope scope) {
        if (isBlank(agent)) {
            scope.error(field, "is required");
        } else if (AgentNames.RESERVED.contains(agent)) {
            scope.error(field, "\"" + agent + "\" is reserved: agent." + agent + " is a queue of the coordinator's own"
                    + " (agent.events takes events, agent.messages messages between agents)");
        } else {
            checkName(field, agent, AGENT_NAME, "lower-case letters, digits, _ and -, starting with a letter, i.e. "
                    + AGENT_NAME.pattern() + " (it becomes the queue name agent." + agent + ")", scope);
        }
    }

    private void checkAction(String field, String action, ValidationScope scope) {
        if (isBlank(action)) {
            scope.error(field, "is required");
        } else if (action.length() > MAX_NAME_LENGTH) {
            scope.error(field, "is longer than " + MAX_NAME_LENGTH + " characters");
        } else if (!action.equals(action.strip())) {
            // agents dispatch on the action as written: " greet" never meets the handler of "greet" its author meant
            scope.error(field, "\"" + action + "\" has spaces around it, and agents match actions exactly: write \""
                    + action.strip() + "\"");
        } else {
            checkNoPlaceholder(field, action, scope);
        }
    }

    /**
     * Text that goes into a route's description (a workflow's name, an action) holds no Camel property placeholder:
     * a route dump that resolves placeholders (Jolokia, Hawtio) would write {@code {{env:...}}} out as its value,
     * a password among them.
     */
    static void checkNoPlaceholder(String field, String text, ValidationScope scope) {
        if (text != null && text.contains("{{")) {
            scope.error(field, "\"" + text + "\" contains {{, which Camel reads as a property placeholder in the route"
                    + " it is described in (a route dump would resolve it, an environment variable's value too)");
        }
    }

    static void checkName(String field, String value, Pattern pattern, String allowed, ValidationScope scope) {
        if (!pattern.matcher(value).matches()) {
            scope.error(field, "\"" + value + "\" is not a valid name: use " + allowed);
        } else if (value.length() > MAX_NAME_LENGTH) {
            scope.error(field, "is longer than " + MAX_NAME_LENGTH + " characters");
        }
    }

    // ---- graph -----------------------------------------------------------------------------

    private void checkDependsOn(WorkflowStep step, ValidationScope scope) {
        Set<String> seen = new HashSet<>();
        for (String dependency : step.dependsOn()) {
            if (!seen.add(dependency)) {
                scope.error("depends_on", "\"" + dependency + "\" is listed twice");
            } else if (!graph.contains(dependency)) {
                scope.error("depends_on", notAStep(dependency));
            }
        }
    }

    /**
     * A reference to a step the workflow does not have, with the step it may stand for: a typo's, one edit in three
     * characters at most (a short name is not taken for another short one).
     */
    private String notAStep(String name) {
        int edits = Math.min(2, name.length() / 3);
        return "\"" + name + "\" is not a step of this workflow" + (edits == 0 ? "" : Spelling.closest(name, graph.stepIds(), edits)
                .map(meant -> " (did you mean \"" + meant + "\"?)").orElse(""));
    }

    /** {@code from_step}, {@code condition.step}: must exist and must have finished before this step starts. */
    private void checkEarlierStep(String field, String referenced, ValidationScope scope) {
        if (!graph.contains(referenced)) {
            scope.error(field, notAStep(referenced));
        } else if (referenced.equals(scope.stepId())) {
            scope.error(field, "\"" + referenced + "\" is this step itself, which has not run when this is read: name a step"
                    + " it depends on");
        } else if (scope.stepId() != null && graph.contains(scope.stepId()) && !graph.isAncestor(referenced, scope.stepId())
                // an ancestry through a misspelt depends_on is told there, once
                && !graph.isAncestorThroughAMisspeltDependency(referenced, scope.stepId())) {
            scope.error(field, "\"" + referenced + "\" is not an ancestor of this step through depends_on,"
                    + " so it may not have run yet" + (field.startsWith("compensate.")
                    // a dependent is undone before this step: adding it to depends_on would make a cycle
                    ? " (a compensation reads the steps this step depends on, and this step's own input and output:"
                      + " from_input, from_output)"
                    : " (add it to depends_on)"));
        }
    }

    // ---- condition -------------------------------------------------------------------------

    private void checkCondition(StepCondition condition, ValidationScope scope) {
        if (condition == null) {
            return;
        }
        if (isBlank(condition.step())) {
            scope.error("condition.step", "is required");
        } else {
            checkEarlierStep("condition.step", condition.step(), scope);
        }
        if (isBlank(condition.outputKey())) {
            scope.error("condition.output_key", "is required");
        }
        checkPath("condition.output_key", condition.outputKey(), scope);
        // the spec's condition type asks for a value with every operator, so a spec workflow testing presence carries one
        // that its code never reads: it ports as it is (CONTRACT.md section 1), its value unread here too
        checkOperator("condition", condition.operator(), condition.value(), true, scope);
    }

    /**
     * The operator is known, and a value is given when the operator compares with one. A null value
     * compares with nothing (a null output counts as absent, see {@link Operator#test}): exists and
     * not_exists say what it would mean. A value given to exists or not_exists, which never read it, is refused unless
     * {@code presenceTakesAValue}.
     */
    static void checkOperator(String prefix, String operator, com.fasterxml.jackson.databind.JsonNode value,
                              boolean presenceTakesAValue, ValidationScope scope) {
        if (isBlank(operator)) {
            scope.error(prefix + ".operator", "is required (one of " + Operator.tokens() + ")");
            return;
        }
        Operator.parse(operator).ifPresentOrElse(
                op -> {
                    if (!op.needsValue()) {
                        if (value != null && !presenceTakesAValue) {
                            scope.error(prefix + ".value", "is not read by operator \"" + operator + "\", which asks only whether"
                                    + " the output has the key: leave value out, or compare with eq");
                        }
                    } else if (value == null) {
                        scope.error(prefix + ".value", "is required by operator \"" + operator + "\"");
                    } else if (value.isNull()) {
                        scope.error(prefix + ".value", "is null, which operator \"" + operator + "\" " + (op == Operator.NE ? "always" : "never")
                                + " matches (a null output counts as absent): use operator exists or not_exists");
                    } else if (op.orders() && !value.isNumber() && !value.isTextual()) {
                        scope.error(prefix + ".value", "is " + value.getNodeType().name().toLowerCase(java.util.Locale.ROOT) + " " + value
                                + ", which operator \"" + operator + "\" never matches: it compares numbers with numbers and strings with strings");
                    }
                },
                () -> scope.error(prefix + ".operator", "unknown operator \"" + operator + "\" (allowed: " + Operator.tokens() + ")"));
    }

    // ---- input mappings --------------------------------------------------------------------

    private void checkInputMapping(String field, InputMapping mapping, ValidationScope scope) {
        if (mapping == null) {
            scope.error(field, "exactly one source is required (" + INPUT_SOURCES + "), found none");
            return;
        }
        List<String> sources = new ArrayList<>();
        addIfPresent(sources, "from_trigger", mapping.fromTrigger(), field, scope);
        addIfPresent(sources, "from_step", mapping.fromStep(), field, scope);
        addIfPresent(sources, "from_shared_memory", mapping.fromSharedMemory(), field, scope);
        addIfPresent(sources, "from_signal", mapping.fromSignal(), field, scope);
        if (mapping.value() != null) {
            sources.add("value");
        }
        checkExactlyOneSource(field, sources, INPUT_SOURCES, scope);
        checkStepSource(field, mapping.fromStep(), mapping.outputKey(), scope);
    }

    /** {@code from_step} needs {@code output_key}, {@code output_key} is meaningless without it, and the step must be earlier. */
    private void checkStepSource(String field, String fromStep, String outputKey, ValidationScope scope) {
        if (fromStep != null && isBlank(outputKey)) {
            scope.error(field + ".output_key", "is required with from_step");
        }
        if (fromStep == null && outputKey != null) {
            scope.error(field + ".output_key", "is only allowed with from_step");
        }
        checkPath(field + ".output_key", outputKey, scope);
        if (!isBlank(fromStep)) {
            checkEarlierStep(field + ".from_step", fromStep, scope);
        }
    }

    private static void checkExactlyOneSource(String field, List<String> found, String allowed, ValidationScope scope) {
        if (found.size() != 1) {
            scope.error(field, "exactly one source is required (" + allowed + "), found "
                    + (found.isEmpty() ? "none" : String.join(", ", found)));
        }
    }

    private static void addIfPresent(List<String> sources, String name, String value, String field, ValidationScope scope) {
        if (value != null) {
            sources.add(name);
            if (value.isBlank()) {
                scope.error(field + "." + name, "must not be empty");
            } else if (PATH_SOURCES.contains(name)) {
                checkPath(field + "." + name, value, scope);
            }
        }
    }

    /** The sources that name a dotted path into a JSON document (from_step and from_signal name a step and a signal type). */
    private static final java.util.Set<String> PATH_SOURCES = java.util.Set.of("from_trigger", "from_shared_memory", "from_input", "from_output");

    /**
     * A dotted path names keys one dot apart: {@code a..b} or {@code .a} would look for a key "" and find nothing, and
     * {@code a.} reads {@code a} as if the dot were not there.
     */
    static void checkPath(String field, String path, ValidationScope scope) {
        if (path != null && !path.isBlank() && (path.startsWith(".") || path.endsWith(".") || path.contains(".."))) {
            scope.error(field, "\"" + path + "\" has an empty part between dots: a path names keys one dot apart (such as analysis.score)");
        } else if (path != null && !path.isBlank() && !path.equals(path.strip())) {
            // keys match exactly: " o.1" looks for a key " o" and never finds one
            scope.error(field, "\"" + path + "\" has spaces around it, and keys match exactly: write \"" + path.strip() + "\"");
        } else if (path != null && path.startsWith("$.")) {
            scope.error(field, "\"" + path + "\" is a JSONPath: a path names keys one dot apart, without \"$.\" (" + path.substring(2) + ")");
        }
    }

    // ---- config ----------------------------------------------------------------------------

    /**
     * A step's config, or a compensation's ({@code compensation}): a compensation runs while its execution
     * compensates, which the workflow's timeout does not bound, and neither lets its failure pass nor carries
     * the execution's context.
     */
    private void checkStepConfig(String prefix, StepConfig config, boolean compensation, ValidationScope scope) {
        if (config == null) {
            return;
        }
        Long timeout = config.timeoutMs();
        if (timeout != null && timeout <= 0) {
            scope.error(prefix + ".timeout_ms", "must be greater than 0 (was " + timeout + ")");
        } else if (!compensation && timeout != null && timeout > workflow.config().timeoutMsOrDefault()) {
            scope.error(prefix + ".timeout_ms", timeout + " is larger than the workflow's timeout_ms "
                    + workflow.config().timeoutMsOrDefault() + " (the workflow would time out first)");
        } else {
            checkAtMost(prefix + ".timeout_ms", timeout, MAX_DURATION_MS, "365 days", scope);
        }
        checkNotNegative(prefix + ".retry_count", config.retryCount(), scope);
        checkAtMost(prefix + ".retry_count", config.retryCount(), MAX_RETRIES, null, scope);
        checkNotNegative(prefix + ".retry_backoff_ms", config.retryBackoffMs(), scope);
        checkAtMost(prefix + ".retry_backoff_ms", config.retryBackoffMs(), MAX_BACKOFF_MS, "1 day; it doubles with each retry", scope);
        Long most = config.retryBackoffMaxMs();
        if (most != null && most <= 0) {
            scope.error(prefix + ".retry_backoff_max_ms", "must be greater than 0 (was " + most + ")");
        } else if (most != null && most < (config.retryBackoffMs() == null ? StepConfig.DEFAULT_BACKOFF_MS : config.retryBackoffMs())) {
            scope.error(prefix + ".retry_backoff_max_ms", most + " is less than the first retry's delay, retry_backoff_ms "
                    + (config.retryBackoffMs() == null ? StepConfig.DEFAULT_BACKOFF_MS + " (its default)" : config.retryBackoffMs()));
        } else {
            checkAtMost(prefix + ".retry_backoff_max_ms", most, MAX_DURATION_MS, "365 days", scope);
        }
        if (compensation && Boolean.TRUE.equals(config.allowFailure())) {
            scope.error(prefix + ".allow_failure", "does not apply to a compensation (a failed compensation ends the execution compensation_failed)");
        }
        if (compensation && Boolean.TRUE.equals(config.includeContext())) {
            scope.error(prefix + ".include_context", "does not apply to a compensation (it reads the step's own input and output)");
        }
    }

    static void checkNotNegative(String field, Number value, ValidationScope scope) {
        if (value != null && value.longValue() < 0) {
            scope.error(field, "must not be negative (was " + value + ")");
        }
    }

    /** Bounds that keep attempt counts and deadlines ({@code now() + ms}) within their types. */
    static void checkAtMost(String field, Number value, long most, String readable, ValidationScope scope) {
        if (value != null && value.longValue() > most) {
            scope.error(field, "must be at most " + most + (readable == null ? "" : " (" + readable + ")") + " (was " + value + ")");
        }
    }

    // ---- loop ------------------------------------------------------------------------------

    private void checkLoop(WorkflowStep step, ValidationScope scope) {
        LoopSpec loop = step.loop();
        if (loop == null) {
            return;
        }
        if (loop.maxIterations() == null || loop.maxIterations() < 1) {
            scope.error("loop.max_iterations", (loop.maxIterations() == null ? "is required" : "must be at least 1 (was " + loop.maxIterations() + ")")
                    + ": it bounds the refinement loop");
        }
        checkLoopUntil(loop.until(), scope);
        loop.feedback().forEach((inputKey, outputKey) -> {
            if (isBlank(inputKey) || isBlank(outputKey)) {
                scope.error("loop.feedback", "entries map an input key of the next iteration to an output key of the previous one ({input_key: output_key}), neither may be empty");
            } else if (LoopSpec.PREVIOUS_ITERATION_OUTPUT.equals(inputKey)) {
                scope.error("loop.feedback." + inputKey, PREVIOUS_ITERATION_TAKEN);
            } else {
                checkPath("loop.feedback." + inputKey, outputKey, scope);   // a path into the previous iteration's output
            }
        });
        if (loop.repeatFrom() != null) {
            checkRepeatFrom(step, loop.repeatFrom(), scope);
        }
    }

    /**
     * A loop over several steps: it starts again at an ancestor, its steps repeat in no other loop, and nothing
     * outside it waits on one of its steps but the loop's own: a step that did would run after the first iteration only.
     */
    private void checkRepeatFrom(WorkflowStep step, String from, ValidationScope scope) {
        String field = "loop.repeat_from";
        if (isBlank(from)) {
            scope.error(field, "is blank: name the step each iteration starts again from, or leave repeat_from out");
            return;
        }
        if (!graph.contains(from)) {
            scope.error(field, notAStep(from));
            return;
        }
        if (from.equals(step.id()) || scope.stepId() == null) {
            return;
        }
        if (!graph.isAncestor(from, step.id())) {
            scope.error(field, "\"" + from + "\" is not an ancestor of this step through depends_on: each iteration starts again"
                    + " at a step that runs before this one");
            return;
        }
        List<String> looped = workflow.iterationSteps(step);
        for (String id : looped) {
            WorkflowStep member = workflow.step(id).orElseThrow();
            if (!id.equals(step.id()) && member.loop() != null) {
                scope.error(field, "step \"" + id + "\" has a loop of its own, and a step repeats in one loop only");
            }
            for (WorkflowStep other : workflow.steps()) {
                if (other != null && other != step && other.isLoop() && other.loop().repeatFrom() != null
                        && workflow.iterationSteps(other).contains(id) && !other.id().equals(id)
                        && workflow.steps().indexOf(other) < workflow.steps().indexOf(step)) {
                    scope.error(field, "step \"" + id + "\" is also repeated by the loop of \"" + other.id() + "\", and a step repeats in one loop only");
                }
            }
            if (id.equals(step.id())) {
                continue;
            }
            for (WorkflowStep dependent : workflow.dependentsOf(id)) {
                if (!looped.contains(dependent.id()) && dependent.dependsOn().contains(step.id())) {
                    scope.error(field, "step \"" + dependent.id() + "\" depends on \"" + id + "\", which this loop runs again, so it would"
                            + " run after the first iteration only: drop \"" + id + "\" from its depends_on (it depends on \"" + step.id()
                            + "\" already, runs after the last iteration and reads the latest output of every step of the loop)");
                } else if (!looped.contains(dependent.id())) {
                    scope.error(field, "step \"" + dependent.id() + "\" depends on \"" + id + "\", which this loop runs again, so it would"
                            + " run after the first iteration only: let it depend on \"" + step.id() + "\" (it then runs after the last"
                            + " iteration and reads the latest output of every step of the loop)");
                }
            }
        }
    }

    /** Whether some loop starts each of its iterations again at this step. */
    private boolean isRepeatedFrom(String stepId) {
        return stepId != null && workflow.steps().stream().anyMatch(s -> s != null && s.isLoop() && !stepId.equals(s.id())
                && stepId.equals(s.loop().repeatFrom()));
    }

    private void checkLoopUntil(LoopSpec.LoopCondition until, ValidationScope scope) {
        if (until == null) {
            scope.error("loop.until", "is required (the stop condition on each iteration's output)");
            return;
        }
        if (isBlank(until.outputKey())) {
            scope.error("loop.until.output_key", "is required");
        }
        checkPath("loop.until.output_key", until.outputKey(), scope);
        checkOperator("loop.until", until.operator(), until.value(), false, scope);
    }

    // ---- compensation ----------------------------------------------------------------------

    private void checkCompensation(CompensationSpec compensation, ValidationScope scope) {
        if (compensation == null) {
            return;
        }
        checkAgent("compensate.agent", compensation.agent(), scope);
        checkAction("compensate.action", compensation.action(), scope);
        if (compensation.inputMapping() != null) {
            compensation.inputMapping().forEach((key, input) ->
                    checkCompensationInput("compensate.input_mapping." + key, input, scope));
        }
        checkStepConfig("compensate.config", compensation.config(), true, scope);
    }

    private void checkCompensationInput(String field, CompensationSpec.CompensationInput input, ValidationScope scope) {
        if (input == null) {
            scope.error(field, "exactly one source is required (" + COMPENSATION_SOURCES + "), found none");
            return;
        }
        List<String> sources = new ArrayList<>();
        addIfPresent(sources, "from_input", input.fromInput(), field, scope);
        addIfPresent(sources, "from_output", input.fromOutput(), field, scope);
        addIfPresent(sources, "from_trigger", input.fromTrigger(), field, scope);
        addIfPresent(sources, "from_step", input.fromStep(), field, scope);
        if (input.value() != null) {
            sources.add("value");
        }
        checkExactlyOneSource(field, sources, COMPENSATION_SOURCES, scope);
        checkStepSource(field, input.fromStep(), input.outputKey(), scope);
    }

    // ---- locks -----------------------------------------------------------------------------

    private void checkLock(String prefix, LockSpec lock, ValidationScope scope) {
        if (lock == null) {
            scope.error(prefix, "empty lock (a list item without fields)");
            return;
        }
        if (isBlank(lock.resourceType())) {
            scope.error(prefix + ".resource_type", "is required (e.g. roadmap, skills)");
        } else if (lock.resourceType().length() > MAX_NAME_LENGTH) {
            scope.error(prefix + ".resource_type", "is " + lock.resourceType().length() + " characters long, at most "
                    + MAX_NAME_LENGTH + " (resource_locks.resource_type is varchar(" + MAX_NAME_LENGTH + "))");
        }
        checkLockResourceId(prefix + ".resource_id", lock.resourceId(), scope);
        checkAtMost(prefix + ".ttl_ms", lock.ttlMs(), MAX_DURATION_MS, "365 days", scope);
        if (lock.ttlMs() != null && lock.ttlMs() <= 0) {
            scope.error(prefix + ".ttl_ms", "must be greater than 0 (was " + lock.ttlMs() + ")");
        }
    }

    private void checkLockResourceId(String field, InputMapping resourceId, ValidationScope scope) {
        if (resourceId == null) {
            scope.error(field, "is required (" + LOCK_SOURCES + ")");
            return;
        }
        List<String> sources = new ArrayList<>();
        addIfPresent(sources, "from_trigger", resourceId.fromTrigger(), field, scope);
        addIfPresent(sources, "from_step", resourceId.fromStep(), field, scope);
        List<String> unsupported = new ArrayList<>();
        addIfPresent(unsupported, "from_shared_memory", resourceId.fromSharedMemory(), field, scope);
        addIfPresent(unsupported, "from_signal", resourceId.fromSignal(), field, scope);
        if (resourceId.value() != null) {
            unsupported.add("value");
        }
        if (!unsupported.isEmpty()) {
            scope.error(field, String.join(", ", unsupported) + " cannot name a locked resource (use " + LOCK_SOURCES + ")");
        } else {
            checkExactlyOneSource(field, sources, LOCK_SOURCES, scope);
        }
        checkStepSource(field, resourceId.fromStep(), resourceId.outputKey(), scope);
    }

    static boolean isBlank(String s) {
        return s == null || s.isBlank();
    }
}
