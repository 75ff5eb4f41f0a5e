package dev.agentcoordinator.definition;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

class WorkflowCatalogTest {

    static Path resource(String name) {
        try {
            return Path.of(WorkflowCatalogTest.class.getResource("/definitions/" + name).toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** An unknown field no longer hides the file's other problems until it is fixed. */
    @Test
    void aFileWithUnknownFieldsIsValidatedAllTheSame(@org.junit.jupiter.api.io.TempDir java.nio.file.Path folder) throws Exception {
        List<String> errors = problemsOf(folder.resolve("typos.yaml"), """
                id: typos
                name: Typos
                trigger: TYPOS
                tags: [a, b]
                colour: blue
                steps:
                  - { id: a, agent: Bad_Agent, action: run, retry: { count: 3 }, shade: dark }
                  - { id: b, agent: b, action: run, depends_on: [nowhere] }
                """);
        assertThat(errors).filteredOn(error -> error.contains("unknown field")).extracting(error -> error.replaceAll(" \\(known.*", ""))
                .containsExactlyInAnyOrder("typos.yaml: unknown field \"tags\" (line 4, column 1)", "typos.yaml: unknown field \"colour\" (line 5, column 1)",
                        "typos.yaml: step \"a\": unknown field \"retry\" (line 7, column 45)",
                        "typos.yaml: step \"a\": unknown field \"shade\" (line 7, column 66)");
        assertThat(errors).anySatisfy(error -> assertThat(error).contains("step \"a\": agent:"))
                .anySatisfy(error -> assertThat(error).contains("step \"b\": depends_on"));
    }

    /**
     * Values of the wrong type no longer hide the file's other problems: each is told with its line, and the rules are
     * checked past them, but for the places that hold one (what the rules find there may follow from the missing value).
     */
    @Test
    void aFileWithValuesOfTheWrongTypeIsValidatedAllTheSame(@org.junit.jupiter.api.io.TempDir java.nio.file.Path folder) throws Exception {
        List<String> errors = problemsOf(folder.resolve("types.yaml"), WORKFLOW_HEAD + """
                  - id: a
                    agent: x
                    action: y
                    config: { retry_count: two }
                    input_mapping:
                      other: {}
                  - { id: b, agent: Bad_Agent, action: run, depends_on: [nowhere], tags: [1] }
                  - { id: c, agent: x, action: y, config: { allow_failure: maybe }, depends_on: [a] }
                """);
        assertThat(errors).extracting(error -> error.replaceAll(" \\(known.*", "")).containsExactly(
                "types.yaml: step \"a\": config.retry_count: expected an integer, found \"two\" (line 8, column 28)",
                "types.yaml: step \"b\": unknown field \"tags\" (line 11, column 68)",
                "types.yaml: step \"c\": config.allow_failure: expected true or false, found \"maybe\" (line 12, column 60)",
                "types.yaml: step \"a\": input_mapping.other: exactly one source is required (from_trigger, from_step + output_key,"
                        + " from_shared_memory, from_signal or value), found none (line 10, column 14)",
                "types.yaml: step \"b\": agent: \"Bad_Agent\" is not a valid name: use lower-case letters, digits, _ and -, starting with a"
                        + " letter, i.e. [a-z][a-z0-9_-]* (it becomes the queue name agent.Bad_Agent) (line 11, column 21)",
                "types.yaml: step \"b\": depends_on: \"nowhere\" is not a step of this workflow (line 11, column 58)");
    }

    /**
     * A wrong value hides only the rule problems at its own place in its step, which may follow from it (a setting of the
     * config, the two backoff settings together, any other field with all it holds): not the step's other problems.
     */
    @Test
    void aWrongValueHidesOnlyTheProblemsAtItsPlace(@org.junit.jupiter.api.io.TempDir java.nio.file.Path folder) throws Exception {
        assertThat(problemsOf(folder.resolve("t.yaml"), WORKFLOW_HEAD + """
                  - id: a
                    agent: x
                    action: y
                    config: { retry_count: three, timeout_ms: -5, retry_backoff_ms: soon, retry_backoff_max_ms: 100 }
                    depends_on: [nope]
                    locks: [roadmap]
                  - id: b
                    agent: x
                    action: y
                    condition: { step: zz, output_key: k, operator: eqq, value: 1 }
                    input_mapping: { q: [1, 2] }
                """)).containsExactly(
                "t.yaml: step \"a\": config.retry_count: expected an integer, found \"three\" (line 8, column 28)",
                "t.yaml: step \"a\": config.retry_backoff_ms: expected an integer, found \"soon\" (line 8, column 69)",
                "t.yaml: step \"a\": locks[0]: expected a mapping, found \"roadmap\" (line 10, column 13)",
                "t.yaml: step \"b\": input_mapping.q: expected a mapping, found a list (line 15, column 25)",
                "t.yaml: step \"a\": depends_on: \"nope\" is not a step of this workflow (line 9, column 18)",
                "t.yaml: step \"a\": config.timeout_ms: must be greater than 0 (was -5) (line 8, column 47)",
                "t.yaml: step \"b\": condition.step: \"zz\" is not a step of this workflow (line 14, column 24)",
                "t.yaml: step \"b\": condition.operator: unknown operator \"eqq\" (allowed: eq, ne, gt, lt, gte, lte, exists, not_exists) (line 14, column 53)");
    }

    /**
     * A wrong value the rules would miss elsewhere keeps them from being checked, and nothing made up is told: the
     * workflow's timeout (the steps' are checked against it), its name, a step without an id of its own. Every wrong
     * entry of a list is told, each by its own index.
     */
    @Test
    void wrongValuesTheRulesWouldMissElsewhereAreToldAlone(@org.junit.jupiter.api.io.TempDir java.nio.file.Path folder) throws Exception {
        assertThat(problemsOf(folder.resolve("t.yaml"), """
                id: t
                name: [T2]
                trigger: T
                config: { timeout_ms: 1h }
                steps:
                  - { id: a, agent: x, action: y, config: { timeout_ms: 600000 } }
                """)).containsExactly("t.yaml: name: expected a string, found a list (line 2, column 7)",
                "t.yaml: config.timeout_ms: expected an integer, found \"1h\" (line 4, column 23)");
        assertThat(problemsOf(folder.resolve("t.yaml"), WORKFLOW_HEAD + """
                  - { id: a, agent: x, action: y }
                  - { agent: [x], action: y }
                """)).containsExactly("t.yaml: steps[1].agent: expected a string, found a list (line 6, column 14)");
        assertThat(problemsOf(folder.resolve("t.yaml"), WORKFLOW_HEAD + """
                  - { id: a, agent: x, action: y, locks: [roadmap, { resource_type: r, resource_id: { from_trigger: u }, ttl_ms: soon }] }
                  - [b]
                  - { id: c, agent: Bad_Agent, action: y, config: { retry_count: two } }
                """)).containsExactly(
                "t.yaml: step \"a\": locks[0]: expected a mapping, found \"roadmap\" (line 5, column 43)",
                "t.yaml: step \"a\": locks[1].ttl_ms: expected an integer, found \"soon\" (line 5, column 114)",
                "t.yaml: steps[1]: expected a mapping, found a list (line 6, column 5)",
                "t.yaml: step \"c\": config.retry_count: expected an integer, found \"two\" (line 7, column 66)");
    }

    /** A misspelt field is as good as missing: the problems its absence would make up are not told. */
    @Test
    void aMisspeltFieldMakesUpNoProblems(@org.junit.jupiter.api.io.TempDir java.nio.file.Path folder) throws Exception {
        // the workflow's timeout, which the steps' are checked against
        assertThat(problemsOf(folder.resolve("t.yaml"), """
                id: t
                name: T
                trigger: T
                config: { timeout: 900000 }
                steps:
                  - { id: a, agent: x, action: y, config: { timeout_ms: 600000 } }
                """)).extracting(error -> error.replaceAll(" \\(known.*", ""))
                .containsExactly("t.yaml: config: unknown field \"timeout\" (line 4, column 11)");
        // a step's depends_on, which its mappings are checked against
        assertThat(problemsOf(folder.resolve("t.yaml"), WORKFLOW_HEAD + """
                  - { id: a, agent: x, action: y }
                  - { id: b, agent: x, action: y, depend_on: [a], input_mapping: { v: { from_step: a, output_key: k } } }
                """)).extracting(error -> error.replaceAll(" \\(known.*", ""))
                .containsExactly("t.yaml: step \"b\": unknown field \"depend_on\" (line 6, column 35)");
        // a step's timeout, checked against the workflow's: that step's rules wait; the others' are told
        assertThat(problemsOf(folder.resolve("t.yaml"), """
                id: t
                name: T
                trigger: T
                config: { timeout_ms: 10000 }
                steps:
                  - { id: a, agent: x, action: y, config: { timeout: 5000 } }
                  - { id: b, agent: Bad_Agent, action: y }
                """)).extracting(error -> error.replaceAll(" \\(known.*", "").replaceAll(": use lower-case.*", "")).containsExactly(
                "t.yaml: step \"a\": config: unknown field \"timeout\" (line 6, column 45)",
                "t.yaml: step \"b\": agent: \"Bad_Agent\" is not a valid name");
    }

    /** A wrong value other steps depend on (a step's id or depends_on) keeps the rules from being checked: the file is out. */
    @Test
    void aWrongValueOthersDependOnKeepsTheRulesFromBeingChecked(@org.junit.jupiter.api.io.TempDir java.nio.file.Path folder) throws Exception {
        List<String> errors = problemsOf(folder.resolve("ids.yaml"), WORKFLOW_HEAD + """
                  - { id: [a], agent: x, action: y }
                  - { id: b, agent: Bad_Agent, action: run, depends_on: a, config: { timeout_ms: soon } }
                """);
        assertThat(errors).containsExactly(
                "ids.yaml: steps[0].id: expected a string, found a list (line 5, column 11)",
                "ids.yaml: step \"b\": depends_on: expected a list, found \"a\" (line 6, column 57)",
                "ids.yaml: step \"b\": config.timeout_ms: expected an integer, found \"soon\" (line 6, column 82)");
    }

    /** A workflow's first lines, its steps to follow (so that the steps' lines are counted from 5). */
    private static final String WORKFLOW_HEAD = """
            id: t
            name: T
            trigger: T
            steps:
            """;

    /** A workflow t whose step a's input_mapping follows. */
    private static final String STEP_A_MAPPINGS = WORKFLOW_HEAD + """
              - id: a
                agent: x
                action: y
                input_mapping:
            """;

    /** A misspelt mapping source is told once, with what it may stand for, not also as a mapping without a source. */
    @Test
    void aMisspeltSourceIsToldOnceWithTheFieldItMayStandFor(@org.junit.jupiter.api.io.TempDir java.nio.file.Path folder) throws Exception {
        List<String> errors = problemsOf(folder.resolve("t.yaml"), STEP_A_MAPPINGS + """
                      user: { from_triger: user_id }
                      other: {}
                """);
        assertThat(errors).containsExactly(
                "t.yaml: step \"a\": input_mapping.user: unknown field \"from_triger\" (line 9, column 15) (known fields: from_shared_memory, from_signal,"
                        + " from_step, from_trigger, output_key, value): did you mean \"from_trigger\"?",
                "t.yaml: step \"a\": input_mapping.other: exactly one source is required (from_trigger, from_step + output_key,"
                        + " from_shared_memory, from_signal or value), found none (line 10, column 14)");
    }

    /**
     * A rule's problem says where it is written, as a problem of a field's type or name does: its field's value, the
     * mapping a required field is missing from, its step. Before, it named the step and the field only, and a long
     * file had to be searched for them.
     */
    @Test
    void aRulesProblemSaysWhereItIsWritten(@org.junit.jupiter.api.io.TempDir java.nio.file.Path folder) throws Exception {
        List<String> errors = problemsOf(folder.resolve("t.yaml"), """
                id: t
                name: T
                trigger: T_EVENT
                steps:
                  - id: a
                    agent: x
                    action: y
                    depends_on:
                      - b
                      - nowhere
                    input_mapping:
                      candidate.email: { from_step: nowhere, output_key: e }
                  - id: b
                    agent: x
                    action: y
                    condition: { output_key: k, operator: eq, value: 1 }
                  - agent: x
                    action: y
                """);
        assertThat(errors).contains(
                "t.yaml: step \"a\": depends_on: \"nowhere\" is not a step of this workflow (line 10, column 9)",
                "t.yaml: step \"a\": input_mapping.candidate.email.from_step: \"nowhere\" is not a step of this workflow (line 12, column 37)",
                "t.yaml: steps[2].id: is required (line 17, column 5)");
        assertThat(errors).anySatisfy(error -> assertThat(error).startsWith("t.yaml: step \"b\": condition.step:").endsWith("(line 16, column 16)"));
    }

    /** A field the workflow itself leaves out is told at the mapping it is missing from, as a step's is. */
    @Test
    void aWorkflowFieldLeftOutIsToldAtTheMappingItIsMissingFrom(@org.junit.jupiter.api.io.TempDir java.nio.file.Path folder) throws Exception {
        List<String> errors = problemsOf(folder.resolve("t.yaml"), """
                # a workflow without its name
                id: t
                trigger: T_EVENT
                steps:
                  - id: a
                    agent: x
                """);
        assertThat(errors).containsExactlyInAnyOrder(
                "t.yaml: name: is required (line 2, column 1)",
                "t.yaml: step \"a\": action: is required (line 5, column 5)");
    }

    /** An output_key beside a misspelt from_step is not also told that it needs from_step. */
    @Test
    void anOutputKeyBesideAMisspeltFromStepIsNotToldItNeedsFromStep(@org.junit.jupiter.api.io.TempDir java.nio.file.Path folder) throws Exception {
        List<String> errors = problemsOf(folder.resolve("t.yaml"), WORKFLOW_HEAD + """
                  - { id: s1, agent: x, action: y }
                  - id: a
                    agent: x
                    action: y
                    depends_on: [s1]
                    input_mapping:
                      v: { from_stp: s1, output_key: k }
                """);
        assertThat(errors).singleElement().asString().contains("input_mapping.v: unknown field \"from_stp\"")
                .endsWith("did you mean \"from_step\"?");
    }

    /** A required field misspelt is told once, as the unknown field that may stand for it, not also as missing. */
    @Test
    void aMisspeltRequiredFieldIsToldOnce(@org.junit.jupiter.api.io.TempDir java.nio.file.Path folder) throws Exception {
        List<String> errors = problemsOf(folder.resolve("t.yaml"), WORKFLOW_HEAD + """
                  - { id: a, agent: x, action: y }
                  - id: b
                    agnt: x
                    action: y
                    depends_on: [a]
                    condition: { step: a, output_key: ok, operater: eq, value: true }
                """);
        assertThat(errors).extracting(error -> error.replaceAll(" \\(known.*", "")).containsExactlyInAnyOrder(
                "t.yaml: step \"b\": unknown field \"agnt\" (line 7, column 5)",
                "t.yaml: step \"b\": condition: unknown field \"operater\" (line 10, column 43)");
        assertThat(errors).allSatisfy(error -> assertThat(error).containsPattern("did you mean \"(agent|operator)\"\\?$"));
    }

    /** Only the mapping an unknown field left without a source is told once; every other problem of that place is told. */
    @Test
    void problemsTheUnknownFieldDidNotCauseAreStillTold(@org.junit.jupiter.api.io.TempDir java.nio.file.Path folder) throws Exception {
        List<String> errors = problemsOf(folder.resolve("t.yaml"), STEP_A_MAPPINGS + """
                      two: { from_trigger: u, value: 1, note: hi }
                      typo: { from_trigger: u, from_triggr: v }
                      vague: { from: user_id }
                  - id: a
                    agent: x
                    action: y
                    input_mapping:
                      typo: {}
                """);
        assertThat(errors).anySatisfy(error -> assertThat(error).startsWith("t.yaml: step \"a\": input_mapping.two: exactly one source"))
                .anySatisfy(error -> assertThat(error).startsWith("t.yaml: step \"a\": input_mapping.typo: exactly one source")
                        .endsWith("found none"))
                // a field the mapping has already is not suggested, nor one of several a prefix starts
                .anySatisfy(error -> assertThat(error).startsWith("t.yaml: steps[0].input_mapping.typo: unknown field \"from_triggr\"")
                        .doesNotContain("did you mean"))
                .anySatisfy(error -> assertThat(error).startsWith("t.yaml: steps[0].input_mapping.vague: unknown field \"from\"")
                        .doesNotContain("did you mean"));
    }

    /** The problems the catalog tells of {@code file} holding {@code yaml}. */
    private static List<String> problemsOf(java.nio.file.Path file, String yaml) throws Exception {
        java.nio.file.Files.writeString(file, yaml);
        return catchThrowableOfType(InvalidDefinitionsException.class, () -> WorkflowCatalog.load(List.of(file))).errors();
    }

    @Test
    void everyProblemOfEveryFileIsReported() {
        InvalidDefinitionsException e = catchThrowableOfType(InvalidDefinitionsException.class,
                () -> WorkflowCatalog.load(resource("broken")));
        // file by file, in name order: a parse error excludes its file but the others are still validated
        assertThat(e.errors()).containsExactly(
                "cycle.yaml: step \"a\": depends_on: cycle a -> c -> b -> a (each step depends on the next) (line 6, column 47)",
                "interview_completed.yaml: step \"adjust_roadmap\": condition.step: \"check_impact\" is not a step of this workflow (line 12, column 24)",
                "interview_completed.yaml: step \"adjust_roadmap\": input_mapping.analysis.from_step: \"analyze_interview\""
                        + " is not an ancestor of this step through depends_on, so it may not have run yet (add it to depends_on) (line 14, column 30)",
                "market_update.yaml: step \"compile_report\": config: unknown field \"timeout\" (line 13, column 7) (known fields:"
                        + " allow_failure, include_context, retry_backoff_max_ms, retry_backoff_ms, retry_count, retry_jitter, timeout_ms):"
                        + " did you mean \"timeout_ms\"?",
                "same_trigger.json: trigger: \"INTERVIEW_COMPLETED\" is also the trigger of workflow \"interview_completed\""
                        + " in interview_completed.yaml (one workflow per trigger) (line 4, column 14)",
                "syntax_error.yaml: steps[0]: YAML syntax error: while parsing a flow mapping (line 6, column 5):"
                        + " expected ',' or '}', but got <stream end> (line 7, column 1)",
                "wrong_types.yaml: config.timeout_ms: expected an integer, found \"soon\" (line 6, column 15)");
        assertThat(e.getMessage()).startsWith("7 problem(s) in workflow definitions:\n  - cycle.yaml: ");
    }

    /**
     * A file whose own rules cannot be checked (a misspelt depends_on leaves its graph unknown) still counts in the
     * checks across files: another workflow on its trigger or with its id is told at once, not after the first fix.
     */
    @Test
    void aFileWhoseRulesCannotBeCheckedStillCountsAcrossFiles(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("a.yaml"), """
                id: a
                name: A
                trigger: A_EVENT
                steps:
                  - { id: s, agent: x, action: y }
                  - { id: t, agent: x, action: y, depend_on: [s] }
                """);
        Files.writeString(dir.resolve("b.yaml"), "id: b\nname: B\ntrigger: A_EVENT\nsteps: [{id: s, agent: x, action: y}]\n");
        Files.writeString(dir.resolve("c.yaml"), "id: a\nname: C\ntrigger: C_EVENT\nsteps: [{id: s, agent: x, action: y}]\n");

        assertThat(catchThrowableOfType(InvalidDefinitionsException.class, () -> WorkflowCatalog.load(dir)).errors())
                .hasSize(3)
                .anyMatch(problem -> problem.startsWith("a.yaml: step \"t\": unknown field \"depend_on\""))
                .contains("b.yaml: trigger: \"A_EVENT\" is also the trigger of workflow \"a\" in a.yaml (one workflow per trigger) (line 3, column 10)")
                .anyMatch(problem -> problem.startsWith("c.yaml: id: ") && problem.contains("a.yaml"));
    }

    @Test
    void loadsYamlYmlAndJsonAndIgnoresOtherFiles(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("b.yml"), "id: b\nname: B\ntrigger: B_EVENT\nsteps: [{id: s, agent: x, action: y}]\n");
        Files.writeString(dir.resolve("a.json"), """
                {"id": "a", "name": "A", "trigger": "A_EVENT", "steps": [{"id": "s", "agent": "x", "action": "y"}]}
                """);
        Files.writeString(dir.resolve("README.md"), "not a workflow");
        Files.writeString(dir.resolve(".#a.yaml"), "editor lock file");

        WorkflowCatalog catalog = WorkflowCatalog.load(dir);

        assertThat(catalog.all()).extracting(WorkflowDefinition::id).containsExactly("a", "b");
        assertThat(catalog.byId("b")).get().extracting(WorkflowDefinition::trigger).isEqualTo("B_EVENT");
        assertThat(catalog.byTrigger("A_EVENT")).get().extracting(WorkflowDefinition::id).isEqualTo("a");
        assertThat(catalog.byTrigger("NOTHING")).isEmpty();

        // the folder as it was read, summed up: the same until a definition file changes, is added or goes
        assertThat(catalog.folderDigest()).hasValue(WorkflowCatalog.folderDigest(dir));
        Files.writeString(dir.resolve("README.md"), "still not a workflow");
        assertThat(catalog.folderDigest()).hasValue(WorkflowCatalog.folderDigest(dir));
        Files.writeString(dir.resolve("b.yml"), "id: b\nname: B\ntrigger: B_EVENTS\nsteps: [{id: s, agent: x, action: y}]\n");
        assertThat(catalog.folderDigest().orElseThrow()).isNotEqualTo(WorkflowCatalog.folderDigest(dir));
        assertThat(WorkflowCatalog.load(List.of(dir.resolve("b.yml"))).folderDigest()).as("not read from a folder").isEmpty();
    }

    @Test
    void loadsAnExplicitListOfFiles() throws Exception {
        WorkflowCatalog catalog = WorkflowCatalog.load(List.of(resource("broken/same_trigger.json")));
        assertThat(catalog.byTrigger("INTERVIEW_COMPLETED")).isPresent();
    }

    @Test
    void aMissingFolderIsAnError(@TempDir Path dir) throws Exception {
        assertThatThrownBy(() -> WorkflowCatalog.load(dir.resolve("nope")))
                .isInstanceOf(InvalidDefinitionsException.class)
                .hasMessageEndingWith("nope: no such directory");
        Path file = java.nio.file.Files.writeString(dir.resolve("wf.yaml"), "id: a\n");
        assertThatThrownBy(() -> WorkflowCatalog.load(file)).hasMessageEndingWith("wf.yaml: not a directory");
        // a relative folder names where it was looked for (a newcomer's own coordinator.properties named one)
        assertThatThrownBy(() -> WorkflowCatalog.load(Path.of("my-flows-" + dir.getFileName())))
                .hasMessageContaining("my-flows-" + dir.getFileName() + " (" + Path.of("").toAbsolutePath().resolve("my-flows-" + dir.getFileName()))
                .hasMessageEndingWith("): no such directory");
    }

    private static WorkflowDefinition version(int version) throws DefinitionReadException {
        return new DefinitionReader().read("flow.yaml", """
                id: flow
                name: Flow
                trigger: FLOW
                version: %d
                steps:
                  - { id: a, agent: agent-%d, action: act }
                """.formatted(version, version)).definition();
    }

    @Test
    void anExecutionRunsOnTheDefinitionOfTheVersionItStartedOn() throws Exception {
        WorkflowCatalog catalog = new WorkflowCatalog(List.of(version(3)));
        WorkflowDefinition retained = WorkflowCatalog.asRetained(version(2));
        catalog.retain(retained);
        assertThat(retained.id()).isEqualTo("flow~v2");
        assertThat(WorkflowCatalog.workflowIdOf(retained.id())).isEqualTo("flow");
        assertThat(WorkflowCatalog.workflowIdOf("flow")).isEqualTo("flow");

        assertThat(catalog.forVersion("flow", 3).map(WorkflowDefinition::id)).contains("flow");
        assertThat(catalog.forVersion("flow", 2)).contains(retained);
        assertThat(catalog.forVersion("flow", 2).get().steps().get(0).agent()).isEqualTo("agent-2");
        // never recorded (before coordinators kept versions): it goes on with the loaded one, as it always did
        assertThat(catalog.forVersion("flow", 1).map(WorkflowDefinition::id)).contains("flow");
        assertThat(catalog.forVersion("flow", null).map(WorkflowDefinition::id)).contains("flow");
        // a later version than the loaded one is a newer coordinator's: only its record can tell
        assertThat(catalog.forVersion("flow", 4)).isEmpty();
        WorkflowDefinition fetched = WorkflowCatalog.asRetained(version(4));
        catalog.fetchVersionsFrom((workflowId, version) -> {
            if (!workflowId.equals("flow") || version != 4) {
                return java.util.Optional.empty();
            }
            catalog.retain(fetched);
            return java.util.Optional.of(fetched);
        });
        assertThat(catalog.forVersion("flow", 4)).contains(fetched);
        assertThat(catalog.byRouteKey("flow~v4")).contains(fetched);
        assertThat(catalog.forVersion("other", 1)).isEmpty();
        assertThat(catalog.forVersion(null, 1)).isEmpty();

        assertThat(catalog.byRouteKey("flow~v2")).contains(retained);
        assertThat(catalog.byRouteKey("flow").map(WorkflowDefinition::versionOrDefault)).contains(3);
        assertThat(catalog.byRouteKey("flow~v1")).isEmpty();
        assertThat(catalog.all()).extracting(WorkflowDefinition::id).containsExactly("flow");
        assertThat(catalog.byTrigger("FLOW").map(WorkflowDefinition::versionOrDefault)).as("only the loaded version starts executions").contains(3);
    }

    @Test
    void aReleasedVersionIsAskedForAgainByAMessageOnItsWayThroughItsRoutes() throws Exception {
        WorkflowCatalog catalog = new WorkflowCatalog(List.of(version(3)));
        WorkflowDefinition retained = WorkflowCatalog.asRetained(version(2));
        catalog.retain(retained);
        List<String> asked = new java.util.ArrayList<>();
        catalog.fetchVersionsFrom((workflowId, version) -> {
            asked.add(workflowId + " " + version);
            catalog.retain(retained);
            return java.util.Optional.of(retained);
        });

        assertThat(catalog.release("flow~v2")).isSameAs(retained);
        assertThat(catalog.release("flow~v2")).isNull();
        assertThat(catalog.retained()).isEmpty();
        assertThat(catalog.byRouteKey("flow~v2")).as("a plain lookup asks nobody").isEmpty();
        assertThat(asked).isEmpty();

        assertThat(catalog.resolveRouteKey("flow~v2")).contains(retained);
        assertThat(asked).containsExactly("flow 2");
        assertThat(catalog.retained()).containsExactly(retained);
        assertThat(catalog.resolveRouteKey("flow~v2")).contains(retained);
        assertThat(catalog.resolveRouteKey("flow").map(WorkflowDefinition::versionOrDefault)).contains(3);
        assertThat(catalog.resolveRouteKey("other")).isEmpty();
        assertThat(catalog.resolveRouteKey("flow~vx")).isEmpty();
        assertThat(catalog.resolveRouteKey(null)).isEmpty();
        assertThat(asked).as("only a version key not retained is asked for").containsExactly("flow 2");
    }

    @Test
    void everyShippedAndTestWorkflowReadsBackFromTheJsonItIsRecordedAs() throws Exception {
        List<Path> files = new java.util.ArrayList<>(WorkflowCatalog.definitionFiles(Path.of("routes/workflows")));
        files.addAll(WorkflowCatalog.definitionFiles(Path.of("src/test/resources/engine-workflows")));
        com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
        for (WorkflowDefinition definition : WorkflowCatalog.load(files).all()) {
            String recorded = json.writeValueAsString(definition);
            assertThat(new DefinitionReader().read(definition.id() + ".json", recorded).definition())
                    .as(definition.id()).isEqualTo(definition);
        }
    }
}
