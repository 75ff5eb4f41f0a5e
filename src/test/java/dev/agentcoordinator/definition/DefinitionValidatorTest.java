package dev.agentcoordinator.definition;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** One rule per test: a small broken workflow and the exact message the rule gives. */
class DefinitionValidatorTest {

    private static final String HEADER = """
            id: wf
            name: Test workflow
            trigger: TEST_EVENT
            config: { timeout_ms: 60000, max_retries: 1 }
            steps:
            """;

    /** The errors of a workflow made of HEADER and the given steps. */
    private static List<String> errorsOfSteps(String steps) {
        return errorsOf(HEADER + steps);
    }

    static List<String> errorsOf(String yaml) {
        try {
            LoadedDefinition loaded = new DefinitionReader().read("wf.yaml", yaml);
            return new DefinitionValidator().validate(loaded).stream().map(DefinitionError::toString).toList();
        } catch (DefinitionReadException e) {
            throw new AssertionError("expected a parseable definition, got " + e.getMessage(), e);
        }
    }

    @Test
    void aValidWorkflowHasNoErrors() {
        assertThat(errorsOfSteps("""
                  - id: a
                    agent: interviewer
                    action: analyze
                    input_mapping:
                      user_id: { from_trigger: user.id }
                  - id: b
                    agent: sentinel
                    action: extract
                    depends_on: [a]
                    condition: { step: a, output_key: ok, operator: exists }
                    input_mapping:
                      analysis: { from_step: a, output_key: analysis }
                      region: { value: eu }
                      memo: { from_shared_memory: notes }
                      gap: { from_signal: SKILL_GAP_CRITICAL }
                    config: { timeout_ms: 60000, retry_count: 0, retry_backoff_ms: 0, allow_failure: true }
                """)).isEmpty();
    }

    @Test
    void missingIdNameTriggerAndEmptySteps() {
        assertThat(errorsOf("steps: []\n")).containsExactly(
                "wf.yaml: id: is required",
                "wf.yaml: name: is required",
                "wf.yaml: trigger: is required",
                "wf.yaml: steps: at least one step is required");
    }

    @Test
    void workflowIdMustBeUsableInRouteIds() {
        assertThat(errorsOf(HEADER.replace("id: wf", "id: my workflow") + """
                  - { id: a, agent: x, action: y }
                """)).containsExactly(
                "wf.yaml: id: \"my workflow\" is not a valid name: use letters, digits, _ and -, starting with a letter (it becomes part of route ids)");
    }

    /** Longer event types and lock resource types than the database columns hold would load, then fail at run time. */
    /** What goes into a route's description holds no property placeholder, which a route dump could resolve. */
    @Test
    void namesAndActionsHoldNoPropertyPlaceholder() {
        assertThat(errorsOf(HEADER.replace("name: Test workflow", "name: \"a{{env:COORDINATOR_DB_PASSWORD}}\"") + """
                  - id: a
                    agent: x
                    action: "y{{sys:user.home}}"
                    compensate: { agent: x, action: "undo {{env:HOME}}" }
                """)).containsExactly(
                "wf.yaml: name: \"a{{env:COORDINATOR_DB_PASSWORD}}\" contains {{, which Camel reads as a property placeholder in the"
                        + " route it is described in (a route dump would resolve it, an environment variable's value too)",
                "wf.yaml: step \"a\": action: \"y{{sys:user.home}}\" contains {{, which Camel reads as a property placeholder in the"
                        + " route it is described in (a route dump would resolve it, an environment variable's value too)",
                "wf.yaml: step \"a\": compensate.action: \"undo {{env:HOME}}\" contains {{, which Camel reads as a property placeholder"
                        + " in the route it is described in (a route dump would resolve it, an environment variable's value too)");
    }

    @Test
    void eventTypesAndLockResourceTypesFitTheirColumns() {
        String longType = "T".repeat(201);
        assertThat(errorsOf(HEADER.replace("trigger: TEST_EVENT", "trigger: " + longType)
                .replace("steps:", "onFailure: " + longType + "X\nsteps:") + "  - { id: a, agent: x, action: y }\n")).containsExactly(
                "wf.yaml: trigger: is 201 characters long, at most 200 (the longest event type the coordinator accepts)",
                "wf.yaml: onFailure: is 202 characters long, at most 200 (the longest event type the coordinator accepts)");
        assertThat(errorsOfSteps("  - { id: a, agent: x, action: y, locks: [{ resource_type: " + "r".repeat(101)
                + ", resource_id: { from_trigger: user_id } }] }\n")).containsExactly(
                "wf.yaml: step \"a\": locks[0].resource_type: is 101 characters long, at most 100 (resource_locks.resource_type is varchar(100))");
    }

    /** A blank outcome event was refused at intake and dead-lettered after every run. */
    @Test
    void aCompletionEventIsNotBlank() {
        assertThat(errorsOf(HEADER.replace("steps:", "onSuccess: \"\"\nonFailure: \"  \"\nsteps:") + "  - { id: a, agent: x, action: y }\n"))
                .containsExactly("wf.yaml: onSuccess: is blank: name the event type to send, or leave onSuccess out",
                        "wf.yaml: onFailure: is blank: name the event type to send, or leave onFailure out");
    }

    @Test
    void versionMustBePositive() {
        assertThat(errorsOf(HEADER.replace("steps:", "version: 0\nsteps:") + "  - { id: a, agent: x, action: y }\n"))
                .containsExactly("wf.yaml: version: must be at least 1 (was 0)");
    }

    @Test
    void completionEventMayNotRestartTheWorkflow() {
        assertThat(errorsOf(HEADER.replace("steps:", "onSuccess: TEST_EVENT\nsteps:") + "  - { id: a, agent: x, action: y }\n"))
                .containsExactly("wf.yaml: onSuccess: \"TEST_EVENT\" is the workflow's own trigger: each success would start it again");
    }

    @Test
    void stepWithoutIdIsNamedByPosition() {
        assertThat(errorsOfSteps("""
                  - { id: a, agent: x, action: y }
                  - { agent: x, action: y }
                """)).containsExactly("wf.yaml: steps[1].id: is required");
    }

    @Test
    void duplicateStepIds() {
        assertThat(errorsOfSteps("""
                  - { id: a, agent: x, action: y }
                  - { id: a, agent: x, action: z }
                """)).containsExactly("wf.yaml: steps[1].id: duplicate step id \"a\" (also steps[0])");
    }

    @Test
    void dependsOnUnknownStep() {
        assertThat(errorsOfSteps("""
                  - { id: a, agent: x, action: y, depends_on: [nope] }
                """)).containsExactly("wf.yaml: step \"a\": depends_on: \"nope\" is not a step of this workflow");
    }

    @Test
    void dependsOnListedTwice() {
        assertThat(errorsOfSteps("""
                  - { id: a, agent: x, action: y }
                  - { id: b, agent: x, action: y, depends_on: [a, a] }
                """)).containsExactly("wf.yaml: step \"b\": depends_on: \"a\" is listed twice");
    }

    @Test
    void cycleIsNamed() {
        assertThat(errorsOfSteps("""
                  - { id: a, agent: x, action: y, depends_on: [b] }
                  - { id: b, agent: x, action: y, depends_on: [c] }
                  - { id: c, agent: x, action: y, depends_on: [a] }
                """)).containsExactly("wf.yaml: step \"a\": depends_on: cycle a -> b -> c -> a (each step depends on the next)");
    }

    @Test
    void selfDependencyIsACycle() {
        assertThat(errorsOfSteps("""
                  - { id: a, agent: x, action: y, depends_on: [a] }
                """)).containsExactly("wf.yaml: step \"a\": depends_on: cycle a -> a (each step depends on the next)");
    }

    @Test
    void fromStepNamingAnUnknownStep() {
        assertThat(errorsOfSteps("""
                  - id: a
                    agent: x
                    action: y
                    input_mapping:
                      v: { from_step: ghost, output_key: k }
                """)).containsExactly("wf.yaml: step \"a\": input_mapping.v.from_step: \"ghost\" is not a step of this workflow");
    }

    @Test
    void fromStepMustBeAnAncestor() {
        assertThat(errorsOfSteps("""
                  - { id: a, agent: x, action: y }
                  - id: b
                    agent: x
                    action: y
                    input_mapping:
                      v: { from_step: a, output_key: k }
                """)).containsExactly("wf.yaml: step \"b\": input_mapping.v.from_step: \"a\" is not an ancestor of this step"
                + " through depends_on, so it may not have run yet (add it to depends_on)");
    }

    @Test
    void transitiveAncestorIsAccepted() {
        assertThat(errorsOfSteps("""
                  - { id: a, agent: x, action: y }
                  - { id: b, agent: x, action: y, depends_on: [a] }
                  - id: c
                    agent: x
                    action: y
                    depends_on: [b]
                    input_mapping:
                      v: { from_step: a, output_key: k }
                """)).isEmpty();
    }

    /** A misspelt dependency is told once: the steps it would have made ancestors are not also "not an ancestor". */
    @Test
    void aMisspeltDependencyIsToldOnce() {
        assertThat(errorsOfSteps("""
                  - { id: update_skills, agent: x, action: y }
                  - id: b
                    agent: x
                    action: y
                    depends_on: [update_skils]
                    input_mapping:
                      v: { from_step: update_skills, output_key: k }
                  - id: c
                    agent: x
                    action: y
                    depends_on: [b]
                    condition: { step: update_skills, output_key: k, operator: exists }
                  - { id: audit, agent: x, action: y }
                  - id: d
                    agent: x
                    action: y
                    depends_on: [c]
                    input_mapping:
                      v: { from_step: audit, output_key: k }
                """)).containsExactly("wf.yaml: step \"b\": depends_on: \"update_skils\" is not a step of this workflow (did you mean \"update_skills\"?)",
                // a step the misspelt one does not stand for is still told
                "wf.yaml: step \"d\": input_mapping.v.from_step: \"audit\" is not an ancestor of this step through depends_on,"
                        + " so it may not have run yet (add it to depends_on)");
    }

    @Test
    void conditionStepNamingAnUnknownStep() {
        assertThat(errorsOfSteps("""
                  - { id: check_roadmap_impact, agent: x, action: y }
                  - id: adjust_roadmap
                    agent: x
                    action: y
                    depends_on: [check_roadmap_impact]
                    condition: { step: check_impact, output_key: needs_adjustment, operator: eq, value: true }
                """)).containsExactly(
                "wf.yaml: step \"adjust_roadmap\": condition.step: \"check_impact\" is not a step of this workflow");
    }

    @Test
    void conditionStepMustBeAnAncestor() {
        assertThat(errorsOfSteps("""
                  - { id: a, agent: x, action: y }
                  - id: b
                    agent: x
                    action: y
                    condition: { step: a, output_key: ok, operator: eq, value: true }
                """)).containsExactly("wf.yaml: step \"b\": condition.step: \"a\" is not an ancestor of this step"
                + " through depends_on, so it may not have run yet (add it to depends_on)");
    }

    @Test
    void conditionFieldsAreRequired() {
        assertThat(errorsOfSteps("""
                  - { id: a, agent: x, action: y, condition: { value: 1 } }
                """)).containsExactly(
                "wf.yaml: step \"a\": condition.step: is required",
                "wf.yaml: step \"a\": condition.output_key: is required",
                "wf.yaml: step \"a\": condition.operator: is required (one of " + Operator.tokens() + ")");
    }

    @Test
    void unknownOperatorListsTheAllowedOnes() {
        assertThat(errorsOfSteps("""
                  - { id: a, agent: x, action: y }
                  - { id: b, agent: x, action: y, depends_on: [a], condition: { step: a, output_key: s, operator: equals, value: 1 } }
                """)).containsExactly("wf.yaml: step \"b\": condition.operator: unknown operator \"equals\""
                + " (allowed: eq, ne, gt, lt, gte, lte, exists, not_exists)");
    }

    @Test
    void operatorNeedingAValueWithoutOne() {
        assertThat(errorsOfSteps("""
                  - { id: a, agent: x, action: y }
                  - { id: b, agent: x, action: y, depends_on: [a], condition: { step: a, output_key: s, operator: gt } }
                """)).containsExactly("wf.yaml: step \"b\": condition.value: is required by operator \"gt\"");
    }

    @Test
    void aNullToCompareWithIsRefusedNamingTheOperatorsThatSayIt() {
        assertThat(errorsOfSteps("""
                  - { id: a, agent: x, action: y }
                  - { id: b, agent: x, action: y, depends_on: [a], condition: { step: a, output_key: s, operator: eq, value: null } }
                """)).containsExactly("wf.yaml: step \"b\": condition.value: is null, which operator \"eq\" never matches "
                + "(a null output counts as absent): use operator exists or not_exists");
    }

    /** An ordering operator with a value that is no number or string never matched: a step always skipped, a loop never satisfied. */
    @Test
    void anOrderingOperatorComparesWithANumberOrAString() {
        assertThat(errorsOfSteps("""
                  - { id: a, agent: x, action: y }
                  - { id: b, agent: x, action: y, depends_on: [a], condition: { step: a, output_key: s, operator: gt, value: { min: 8 } } }
                  - id: c
                    agent: x
                    action: y
                    loop: { max_iterations: 2, until: { output_key: score, operator: gte, value: true } }
                  - { id: d, agent: x, action: y, depends_on: [a], condition: { step: a, output_key: s, operator: ne, value: null } }
                  - { id: e, agent: x, action: y, depends_on: [a], condition: { step: a, output_key: s, operator: lte, value: "m" } }
                """)).containsExactly(
                "wf.yaml: step \"b\": condition.value: is object {\"min\":8}, which operator \"gt\" never matches: it compares numbers with numbers and strings with strings",
                "wf.yaml: step \"c\": loop.until.value: is boolean true, which operator \"gte\" never matches: it compares numbers with numbers and strings with strings",
                "wf.yaml: step \"d\": condition.value: is null, which operator \"ne\" always matches (a null output counts as absent): use operator exists or not_exists");
    }

    /** The coordinator sets it on every iteration after the first: a feedback or input of that name was overwritten. */
    @Test
    void aLoopLeavesPreviousIterationOutputToTheCoordinator() {
        assertThat(errorsOfSteps("""
                  - id: a
                    agent: x
                    action: y
                    input_mapping: { previous_iteration_output: { value: 1 } }
                    loop: { max_iterations: 2, until: { output_key: ok, operator: exists }, feedback: { previous_iteration_output: draft } }
                """)).containsExactly(
                "wf.yaml: step \"a\": input_mapping.previous_iteration_output: is the key through which each iteration after the first gets the"
                        + " previous iteration's whole output, set by the coordinator: choose another name",
                "wf.yaml: step \"a\": loop.feedback.previous_iteration_output: is the key through which each iteration after the first gets the"
                        + " previous iteration's whole output, set by the coordinator: choose another name");
    }

    @Test
    void agentAndActionAreRequired() {
        assertThat(errorsOfSteps("""
                  - { id: a }
                """)).containsExactly(
                "wf.yaml: step \"a\": agent: is required",
                "wf.yaml: step \"a\": action: is required");
    }

    @Test
    void agentNameMustBeAQueueName() {
        assertThat(errorsOfSteps("""
                  - { id: a, agent: Inter.Viewer, action: y }
                """)).containsExactly("wf.yaml: step \"a\": agent: \"Inter.Viewer\" is not a valid name: use lower-case letters,"
                + " digits, _ and -, starting with a letter, i.e. [a-z][a-z0-9_-]* (it becomes the queue name agent.Inter.Viewer)");
    }

    @Test
    void agentNamesOfTheCoordinatorsOwnQueuesAreReserved() {
        assertThat(errorsOfSteps("""
                  - { id: a, agent: events, action: y }
                  - { id: b, agent: messages, action: y, compensate: { agent: events, action: z } }
                """)).containsExactly(
                "wf.yaml: step \"a\": agent: \"events\" is reserved: agent.events is a queue of the coordinator's own"
                        + " (agent.events takes events, agent.messages messages between agents)",
                "wf.yaml: step \"b\": agent: \"messages\" is reserved: agent.messages is a queue of the coordinator's own"
                        + " (agent.events takes events, agent.messages messages between agents)",
                "wf.yaml: step \"b\": compensate.agent: \"events\" is reserved: agent.events is a queue of the coordinator's own"
                        + " (agent.events takes events, agent.messages messages between agents)");
    }

    @Test
    void inputMappingWithoutSource() {
        assertThat(errorsOfSteps("""
                  - id: a
                    agent: x
                    action: y
                    input_mapping:
                      v: {}
                      w:
                """)).containsExactly(
                "wf.yaml: step \"a\": input_mapping.v: exactly one source is required (from_trigger, from_step + output_key,"
                        + " from_shared_memory, from_signal or value), found none",
                "wf.yaml: step \"a\": input_mapping.w: exactly one source is required (from_trigger, from_step + output_key,"
                        + " from_shared_memory, from_signal or value), found none");
    }

    @Test
    void inputMappingWithTwoSources() {
        assertThat(errorsOfSteps("""
                  - id: a
                    agent: x
                    action: y
                    input_mapping:
                      v: { from_trigger: user_id, value: 3 }
                """)).containsExactly("wf.yaml: step \"a\": input_mapping.v: exactly one source is required (from_trigger,"
                + " from_step + output_key, from_shared_memory, from_signal or value), found from_trigger, value");
    }

    @Test
    void outputKeyIsRequiredWithFromStepAndOnlyThere() {
        assertThat(errorsOfSteps("""
                  - { id: a, agent: x, action: y }
                  - id: b
                    agent: x
                    action: y
                    depends_on: [a]
                    input_mapping:
                      v: { from_step: a }
                      w: { from_trigger: t, output_key: k }
                """)).containsExactly(
                "wf.yaml: step \"b\": input_mapping.v.output_key: is required with from_step",
                "wf.yaml: step \"b\": input_mapping.w.output_key: is only allowed with from_step");
    }

    @Test
    void emptySourcePath() {
        assertThat(errorsOfSteps("""
                  - { id: a, agent: x, action: y, input_mapping: { v: { from_trigger: "" } } }
                """)).containsExactly("wf.yaml: step \"a\": input_mapping.v.from_trigger: must not be empty");
    }

    @Test
    void stepTimeoutLargerThanWorkflowTimeout() {
        assertThat(errorsOfSteps("""
                  - { id: a, agent: x, action: y, config: { timeout_ms: 90000 } }
                """)).containsExactly("wf.yaml: step \"a\": config.timeout_ms: 90000 is larger than the workflow's timeout_ms 60000"
                + " (the workflow would time out first)");
    }

    /** A compensation runs while its execution compensates, past the workflow's timeout; it neither lets its failure pass nor reads the context. */
    @Test
    void aCompensationsConfigIsNotBoundByTheWorkflowTimeoutAndRefusesWhatItIgnores() {
        assertThat(errorsOfSteps("""
                  - { id: a, agent: x, action: y, compensate: { agent: x, action: undo, config: { timeout_ms: 120000, retry_count: 2,
                      allow_failure: false, include_context: false } } }
                """)).isEmpty();
        assertThat(errorsOfSteps("""
                  - { id: a, agent: x, action: y, compensate: { agent: x, action: undo, config: { allow_failure: true, include_context: true } } }
                """)).containsExactly(
                "wf.yaml: step \"a\": compensate.config.allow_failure: does not apply to a compensation (a failed compensation ends the execution compensation_failed)",
                "wf.yaml: step \"a\": compensate.config.include_context: does not apply to a compensation (it reads the step's own input and output)");
    }

    /** Numbers that would overflow an attempt count or a deadline's interval arithmetic are refused. */
    @Test
    void numbersBeyondWhatAttemptsAndDeadlinesHoldAreRefused() {
        assertThat(errorsOf("""
                id: wf
                name: n
                trigger: T
                config: { timeout_ms: 10000000000000000, max_retries: 2147483647 }
                steps:
                  - { id: a, agent: x, action: y, config: { retry_count: 1001, retry_backoff_ms: 86400001 },
                      locks: [{ resource_type: r, resource_id: { from_trigger: id }, ttl_ms: 31536000001 }] }
                """)).containsExactly(
                "wf.yaml: config.timeout_ms: must be at most 31536000000 (365 days) (was 10000000000000000)",
                "wf.yaml: config.max_retries: must be at most 1000 (was 2147483647)",
                "wf.yaml: step \"a\": config.retry_count: must be at most 1000 (was 1001)",
                "wf.yaml: step \"a\": config.retry_backoff_ms: must be at most 86400000 (1 day; it doubles with each retry) (was 86400001)",
                "wf.yaml: step \"a\": locks[0].ttl_ms: must be at most 31536000000 (365 days) (was 31536000001)");
    }

    @Test
    void aRetryDelayLimitBelowTheFirstDelayOrNotPositiveIsRefused() {
        assertThat(errorsOf("""
                id: wf
                name: n
                trigger: T
                steps:
                  - { id: a, agent: x, action: y, config: { retry_count: 3, retry_backoff_max_ms: 400 } }
                  - { id: b, agent: x, action: y, config: { retry_count: 3, retry_backoff_ms: 100, retry_backoff_max_ms: 0 } }
                  - { id: c, agent: x, action: y, config: { retry_count: 3, retry_backoff_ms: 100, retry_backoff_max_ms: 300, retry_jitter: true } }
                  - { id: d, agent: x, action: y, compensate: { agent: x, action: z, config: { retry_backoff_ms: 900, retry_backoff_max_ms: 800 } } }
                """)).containsExactly(
                "wf.yaml: step \"a\": config.retry_backoff_max_ms: 400 is less than the first retry's delay, retry_backoff_ms 500 (its default)",
                "wf.yaml: step \"b\": config.retry_backoff_max_ms: must be greater than 0 (was 0)",
                "wf.yaml: step \"d\": compensate.config.retry_backoff_max_ms: 800 is less than the first retry's delay, retry_backoff_ms 900");
    }

    @Test
    void aRetryDelayDoublesUpToItsLimit() {
        StepConfig config = new StepConfig(null, 5, null, 100L, null, 300L, true);
        assertThat(java.util.stream.IntStream.rangeClosed(2, 6).mapToLong(config::backoffBeforeAttempt))
                .containsExactly(100L, 200L, 300L, 300L, 300L);
        assertThat(new StepConfig(null, 5, null, 100L).backoffBeforeAttempt(6)).isEqualTo(1600);
    }

    @Test
    void stepTimeoutIsComparedWithTheDefaultWorkflowTimeout() {
        assertThat(errorsOf("""
                id: wf
                name: n
                trigger: T
                steps:
                  - { id: a, agent: x, action: y, config: { timeout_ms: 300001 } }
                """)).containsExactly("wf.yaml: step \"a\": config.timeout_ms: 300001 is larger than the workflow's timeout_ms 300000"
                + " (the workflow would time out first)");
    }

    @Test
    void negativeAndZeroNumbers() {
        assertThat(errorsOf("""
                id: wf
                name: n
                trigger: T
                config: { timeout_ms: 0, max_retries: -1 }
                steps:
                  - { id: a, agent: x, action: y, config: { timeout_ms: -5, retry_count: -1, retry_backoff_ms: -10 } }
                """)).containsExactly(
                "wf.yaml: config.timeout_ms: must be greater than 0 (was 0)",
                "wf.yaml: config.max_retries: must not be negative (was -1)",
                "wf.yaml: step \"a\": config.timeout_ms: must be greater than 0 (was -5)",
                "wf.yaml: step \"a\": config.retry_count: must not be negative (was -1)",
                "wf.yaml: step \"a\": config.retry_backoff_ms: must not be negative (was -10)");
    }

    @Test
    void loopNeedsMaxIterationsAndAStopCondition() {
        assertThat(errorsOfSteps("""
                  - { id: a, agent: x, action: y, loop: { max_iterations: 0 } }
                  - { id: b, agent: x, action: y, loop: { until: { output_key: ok, operator: eq, value: true } } }
                """)).containsExactly(
                "wf.yaml: step \"a\": loop.max_iterations: must be at least 1 (was 0): it bounds the refinement loop",
                "wf.yaml: step \"a\": loop.until: is required (the stop condition on each iteration's output)",
                "wf.yaml: step \"b\": loop.max_iterations: is required: it bounds the refinement loop");
    }

    @Test
    void loopUntilNeedsOutputKeyAndAValidOperator() {
        assertThat(errorsOfSteps("""
                  - { id: a, agent: x, action: y, loop: { max_iterations: 3, until: { operator: bigger, value: 1 } } }
                  - { id: b, agent: x, action: y, loop: { max_iterations: 3, until: { output_key: score, operator: gte } } }
                """)).containsExactly(
                "wf.yaml: step \"a\": loop.until.output_key: is required",
                "wf.yaml: step \"a\": loop.until.operator: unknown operator \"bigger\" (allowed: " + Operator.tokens() + ")",
                "wf.yaml: step \"b\": loop.until.value: is required by operator \"gte\"");
    }

    /** More paths that find nothing: a loop's feedback path, one with spaces around it, a JSONPath; and an input without a key. */
    @Test
    void pathsThatCouldNeverMatchAndAnEmptyInputKeyAreNamed() {
        assertThat(errorsOfSteps("""
                  - id: a
                    agent: x
                    action: y
                    input_mapping:
                      "": { from_trigger: user }
                      p: { from_trigger: " user.id" }
                      q: { from_trigger: "$.user.email" }
                    loop: { max_iterations: 2, feedback: { draft: "a..b" }, until: { output_key: ok, operator: exists } }
                """)).containsExactly(
                "wf.yaml: step \"a\": input_mapping: has an empty key: each key names an input of the step's request",
                "wf.yaml: step \"a\": input_mapping.p.from_trigger: \" user.id\" has spaces around it, and keys match exactly:"
                        + " write \"user.id\"",
                "wf.yaml: step \"a\": input_mapping.q.from_trigger: \"$.user.email\" is a JSONPath: a path names keys one dot apart,"
                        + " without \"$.\" (user.email)",
                "wf.yaml: step \"a\": loop.feedback.draft: \"a..b\" has an empty part between dots: a path names keys one dot apart"
                        + " (such as analysis.score)");
    }

    /** A loop over several steps (repeat_from): the steps each iteration runs again, and what they may not be. */
    /**
     * Mistakes that read as valid and would do nothing: a value a loop's exists never reads, a path with an empty part, a trigger
     * with spaces around it, a step reading itself, and a dependent of a loop's step that depends on the loop already.
     */
    /**
     * The spec's condition type asks for a value with every operator, so a spec workflow testing presence carries
     * one (its code never reads it): such a workflow ports as it is (CONTRACT.md section 1).
     */
    @Test
    void aPresenceConditionTakesTheValueTheSpecsTypeAsksFor() {
        assertThat(errorsOfSteps("""
                  - { id: a, agent: x, action: y }
                  - { id: b, agent: x, action: y, depends_on: [a], condition: { step: a, output_key: k, operator: exists, value: true } }
                  - { id: c, agent: x, action: y, depends_on: [a], condition: { step: a, output_key: k, operator: not_exists, value: null } }
                  - { id: d, agent: x, action: y, depends_on: [a], condition: { step: a, output_key: k, operator: exists, value: {} } }
                """)).isEmpty();
    }

    @Test
    void mistakesThatWouldSilentlyDoNothingAreNamed() {
        assertThat(errorsOf(HEADER.replace("trigger: TEST_EVENT", "trigger: \" TEST_EVENT \"") + """
                  - id: a
                    agent: x
                    action: y
                    input_mapping:
                      p: { from_trigger: "user..id" }
                      q: { from_shared_memory: notes. }
                  - id: b
                    agent: x
                    action: y
                    depends_on: [a]
                    condition: { step: a, output_key: .ok, operator: exists }
                    input_mapping:
                      own: { from_step: b, output_key: v }
                    loop: { max_iterations: 2, until: { output_key: "x..y", operator: not_exists, value: false } }
                """)).containsExactly(
                "wf.yaml: trigger: \" TEST_EVENT \" has spaces around it, and event types match exactly: write \"TEST_EVENT\"",
                "wf.yaml: step \"a\": input_mapping.p.from_trigger: \"user..id\" has an empty part between dots: a path names keys"
                        + " one dot apart (such as analysis.score)",
                "wf.yaml: step \"a\": input_mapping.q.from_shared_memory: \"notes.\" has an empty part between dots: a path names"
                        + " keys one dot apart (such as analysis.score)",
                "wf.yaml: step \"b\": condition.output_key: \".ok\" has an empty part between dots: a path names keys one dot apart"
                        + " (such as analysis.score)",
                "wf.yaml: step \"b\": input_mapping.own.from_step: \"b\" is this step itself, which has not run when this is read:"
                        + " name a step it depends on",
                "wf.yaml: step \"b\": loop.until.output_key: \"x..y\" has an empty part between dots: a path names keys one dot"
                        + " apart (such as analysis.score)",
                "wf.yaml: step \"b\": loop.until.value: is not read by operator \"not_exists\", which asks only whether the output"
                        + " has the key: leave value out, or compare with eq");
        String loop = "loop: { repeat_from: a, max_iterations: 3, until: { output_key: ok, operator: eq, value: true } }";
        assertThat(errorsOfSteps("""
                  - { id: a, agent: x, action: y }
                  - { id: c, agent: x, action: y, depends_on: [a], %s }
                  - { id: e, agent: x, action: y, depends_on: [a, c] }
                """.formatted(loop))).containsExactly(
                "wf.yaml: step \"c\": loop.repeat_from: step \"e\" depends on \"a\", which this loop runs again, so it would run"
                        + " after the first iteration only: drop \"a\" from its depends_on (it depends on \"c\" already, runs after"
                        + " the last iteration and reads the latest output of every step of the loop)");
    }

    @Test
    void aLoopOverSeveralStepsRepeatsFromAnAncestorThatNothingOutsideWaitsOn() {
        String loop = "loop: { repeat_from: %s, max_iterations: 3, until: { output_key: ok, operator: eq, value: true } }";
        assertThat(errorsOfSteps("""
                  - { id: a, agent: x, action: y }
                  - { id: b, agent: x, action: y, depends_on: [a] }
                  - { id: c, agent: x, action: y, depends_on: [b], %s }
                  - { id: d, agent: x, action: y, depends_on: [c] }
                """.formatted(loop.formatted("a")))).isEmpty();
        assertThat(errorsOfSteps("""
                  - { id: a, agent: x, action: y }
                  - { id: b, agent: x, action: y, depends_on: [a] }
                  - { id: c, agent: x, action: y, depends_on: [b], %s }
                  - { id: d, agent: x, action: y, %s }
                  - { id: e, agent: x, action: y, depends_on: [d], %s }
                """.formatted(loop.formatted("b"), loop.formatted("nowhere"), loop.formatted("c")))).containsExactly(
                "wf.yaml: step \"d\": loop.repeat_from: \"nowhere\" is not a step of this workflow",
                "wf.yaml: step \"e\": loop.repeat_from: \"c\" is not an ancestor of this step through depends_on: each iteration"
                        + " starts again at a step that runs before this one");
        assertThat(errorsOfSteps("""
                  - { id: a, agent: x, action: y }
                  - { id: b, agent: x, action: y, depends_on: [a], locks: [{ resource_type: r, resource_id: { from_trigger: id } }] }
                  - { id: c, agent: x, action: y, depends_on: [b], %s }
                  - { id: side, agent: x, action: y, depends_on: [b] }
                """.formatted(loop.formatted("a")))).containsExactly(
                "wf.yaml: step \"c\": loop.repeat_from: step \"side\" depends on \"b\", which this loop runs again, so it would run"
                        + " after the first iteration only: let it depend on \"c\" (it then runs after the last iteration and reads the"
                        + " latest output of every step of the loop)");
        assertThat(errorsOfSteps("""
                  - { id: a, agent: x, action: y, input_mapping: { previous_iteration_output: { value: 1 } } }
                  - { id: b, agent: x, action: y, depends_on: [a], %s }
                  - { id: c, agent: x, action: y, depends_on: [b], %s }
                """.formatted(loop.formatted("a"), loop.formatted("a")))).containsExactly(
                "wf.yaml: step \"a\": input_mapping.previous_iteration_output: is the key through which each iteration after the first"
                        + " gets the previous iteration's whole output, set by the coordinator: choose another name",
                "wf.yaml: step \"c\": loop.repeat_from: step \"a\" is also repeated by the loop of \"b\", and a step repeats in one loop only",
                "wf.yaml: step \"c\": loop.repeat_from: step \"b\" has a loop of its own, and a step repeats in one loop only");
    }

    /**
     * Inside a loop over several steps a condition reads a step that runs before it in the iteration: the loop's step
     * runs after it, so reading its (previous iteration's) output is refused, as anywhere; the feedback carries it.
     */
    @Test
    void aConditionInsideALoopOverSeveralStepsReadsAnEarlierStepOfTheIteration() {
        String loop = "loop: { repeat_from: a, max_iterations: 3, until: { output_key: ok, operator: eq, value: true } }";
        assertThat(errorsOfSteps("""
                  - { id: a, agent: x, action: y }
                  - { id: b, agent: x, action: y, depends_on: [a], condition: { step: a, output_key: go, operator: eq, value: true } }
                  - { id: c, agent: x, action: y, depends_on: [b], %s }
                """.formatted(loop))).isEmpty();
        assertThat(errorsOfSteps("""
                  - { id: a, agent: x, action: y }
                  - { id: b, agent: x, action: y, depends_on: [a], condition: { step: c, output_key: ok, operator: eq, value: false } }
                  - { id: c, agent: x, action: y, depends_on: [b], %s }
                """.formatted(loop))).containsExactly(
                "wf.yaml: step \"b\": condition.step: \"c\" is not an ancestor of this step through depends_on, so it may not have run"
                        + " yet (add it to depends_on)");
    }

    @Test
    void compensationNeedsAgentAndActionAndOneSourcePerInput() {
        assertThat(errorsOfSteps("""
                  - id: a
                    agent: x
                    action: y
                    compensate:
                      agent: Bad Agent
                      input_mapping:
                        id: { from_output: id, from_input: id }
                        user: {}
                """)).containsExactly(
                "wf.yaml: step \"a\": compensate.agent: \"Bad Agent\" is not a valid name: use lower-case letters, digits, _ and -,"
                        + " starting with a letter, i.e. [a-z][a-z0-9_-]* (it becomes the queue name agent.Bad Agent)",
                "wf.yaml: step \"a\": compensate.action: is required",
                "wf.yaml: step \"a\": compensate.input_mapping.id: exactly one source is required (from_input, from_output,"
                        + " from_trigger, from_step + output_key or value), found from_input, from_output",
                "wf.yaml: step \"a\": compensate.input_mapping.user: exactly one source is required (from_input, from_output,"
                        + " from_trigger, from_step + output_key or value), found none");
    }

    /** A compensation reads its step's ancestors: the hint for a dependent is not to add it to depends_on, which would make a cycle. */
    @Test
    void aCompensationReadingADependentIsToldWhatItMayRead() {
        assertThat(errorsOfSteps("""
                  - id: a
                    agent: x
                    action: y
                    compensate: { agent: x, action: undo, input_mapping: { id: { from_step: b, output_key: id } } }
                  - { id: b, agent: x, action: y, depends_on: [a] }
                """)).containsExactly(
                "wf.yaml: step \"a\": compensate.input_mapping.id.from_step: \"b\" is not an ancestor of this step through depends_on,"
                        + " so it may not have run yet (a compensation reads the steps this step depends on, and this step's own"
                        + " input and output: from_input, from_output)");
    }

    @Test
    void compensationMissingAgent() {
        assertThat(errorsOfSteps("""
                  - { id: a, agent: x, action: y, compensate: { action: undo } }
                """)).containsExactly("wf.yaml: step \"a\": compensate.agent: is required");
    }

    @Test
    void lockNeedsTypeAndOneResourceIdSource() {
        assertThat(errorsOfSteps("""
                  - { id: a, agent: x, action: y }
                  - id: b
                    agent: x
                    action: y
                    locks:
                      - { resource_id: { from_trigger: user_id } }
                      - { resource_type: roadmap }
                      - { resource_type: roadmap, resource_id: { from_trigger: u, from_step: a, output_key: k } }
                      - { resource_type: roadmap, resource_id: { value: global } }
                      - { resource_type: roadmap, resource_id: { from_step: a, output_key: id }, ttl_ms: 0 }
                """)).containsExactly(
                "wf.yaml: step \"b\": locks[0].resource_type: is required (e.g. roadmap, skills)",
                "wf.yaml: step \"b\": locks[1].resource_id: is required (from_trigger or from_step + output_key)",
                "wf.yaml: step \"b\": locks[2].resource_id: exactly one source is required (from_trigger or from_step + output_key),"
                        + " found from_trigger, from_step",
                "wf.yaml: step \"b\": locks[2].resource_id.from_step: \"a\" is not an ancestor of this step through depends_on,"
                        + " so it may not have run yet (add it to depends_on)",
                "wf.yaml: step \"b\": locks[3].resource_id: value cannot name a locked resource (use from_trigger or from_step + output_key)",
                "wf.yaml: step \"b\": locks[4].resource_id.from_step: \"a\" is not an ancestor of this step through depends_on,"
                        + " so it may not have run yet (add it to depends_on)",
                "wf.yaml: step \"b\": locks[4].ttl_ms: must be greater than 0 (was 0)");
    }

    @Test
    void everyProblemOfAFileIsReportedAtOnce() {
        List<String> errors = errorsOf("""
                name: n
                steps:
                  - { id: a, agent: A, depends_on: [zz] }
                  - { id: a, agent: x, action: y, condition: { step: q, output_key: k, operator: is } }
                """);
        assertThat(errors).containsExactly(
                "wf.yaml: id: is required",
                "wf.yaml: trigger: is required",
                "wf.yaml: steps[1].id: duplicate step id \"a\" (also steps[0])",
                "wf.yaml: step \"a\": agent: \"A\" is not a valid name: use lower-case letters, digits, _ and -, starting with"
                        + " a letter, i.e. [a-z][a-z0-9_-]* (it becomes the queue name agent.A)",
                "wf.yaml: step \"a\": action: is required",
                "wf.yaml: step \"a\": depends_on: \"zz\" is not a step of this workflow",
                "wf.yaml: step \"a\": condition.step: \"q\" is not a step of this workflow",
                "wf.yaml: step \"a\": condition.operator: unknown operator \"is\" (allowed: " + Operator.tokens() + ")");
    }

    @Test
    void duplicateIdsAndTriggersAcrossFilesNameBothFiles() throws Exception {
        DefinitionReader reader = new DefinitionReader();
        LoadedDefinition first = reader.read("a.yaml", "id: one\nname: n\ntrigger: T\nsteps: [{id: s, agent: x, action: y}]\n");
        LoadedDefinition second = reader.read("b.json", """
                {"id": "one", "name": "n", "trigger": "T", "steps": [{"id": "s", "agent": "x", "action": "y"}]}
                """);
        assertThat(new DefinitionValidator().validateAll(List.of(first, second))).extracting(DefinitionError::toString).containsExactly(
                "b.json: id: \"one\" is also the id of the workflow in a.yaml (workflow ids must be unique)",
                "b.json: trigger: \"T\" is also the trigger of workflow \"one\" in a.yaml (one workflow per trigger)");
    }

    /** Completion events that lead back to the first workflow would run the chain forever; a chain that ends is fine. */
    @Test
    void workflowsChainedBackToTheFirstByTheirCompletionEventsAreRefused() throws Exception {
        DefinitionReader reader = new DefinitionReader();
        LoadedDefinition ping = reader.read("ping.yaml", "id: ping\nname: n\ntrigger: PING\nonSuccess: PONG\nsteps: [{id: s, agent: x, action: y}]\n");
        LoadedDefinition pong = reader.read("pong.yaml", "id: pong\nname: n\ntrigger: PONG\nonSuccess: PANG\nonFailure: PING\nsteps: [{id: s, agent: x, action: y}]\n");
        LoadedDefinition pang = reader.read("pang.yaml", "id: pang\nname: n\ntrigger: PANG\nonSuccess: PING\nsteps: [{id: s, agent: x, action: y}]\n");
        assertThat(new DefinitionValidator().validateAll(List.of(ping, pong, pang))).extracting(DefinitionError::toString).containsExactly(
                "ping.yaml: onSuccess: \"PONG\" leads back to this workflow: ping (ping.yaml) -> pong (pong.yaml) -> pang (pang.yaml) -> ping;"
                        + " each success would start the chain again, forever");
        // a chain that ends, and one that returns only through a failure after a success, start nothing forever
        LoadedDefinition end = reader.read("pang.yaml", "id: pang\nname: n\ntrigger: PANG\nsteps: [{id: s, agent: x, action: y}]\n");
        assertThat(new DefinitionValidator().validateAll(List.of(ping, pong, end))).isEmpty();
    }
}
