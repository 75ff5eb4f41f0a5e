package dev.agentcoordinator.definition;

import com.fasterxml.jackson.databind.node.BooleanNode;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Parse errors: one error per file, naming the JSON path and what was wrong there. */
class DefinitionReaderTest {
    private final DefinitionReader reader = new DefinitionReader();

    private String errorOf(String fileName, String content) {
        try {
            reader.read(fileName, content);
        } catch (DefinitionReadException e) {
            return e.error().toString();
        }
        throw new AssertionError("expected a parse error for " + content);
    }

    /**
     * A YAML file over the YAML reader's own bound is refused before it is read: the reader told it only after a scan
     * whose time grows with the square of a long value's length (a 4 MB file: 20 s, 48 s in a reload).
     */
    @Test
    void aYamlFileOverTheReadersBoundIsRefusedBeforeItIsRead(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        String huge = "id: huge\nname: Huge\ntrigger: HUGE\nsteps:\n  - id: a\n    agent: x\n    action: y\n    input_mapping:\n"
                + "      v: { value: \"" + "x".repeat(DefinitionReader.MAX_YAML_CODE_POINTS) + "\" }\n";
        assertThatThrownBy(() -> reader.read("huge.yaml", huge)).isInstanceOf(DefinitionReadException.class)
                .hasMessageMatching("(?s).*huge\\.yaml: file is 3,145,[0-9]{3} characters long: a definition is at most 3,145,728 characters.*");
        java.nio.file.Path file = java.nio.file.Files.writeString(dir.resolve("huger.yaml"), huge.repeat(5));
        assertThatThrownBy(() -> reader.readNotingFieldProblems(file)).isInstanceOf(DefinitionReadException.class)
                .hasMessageMatching("(?s).*huger\\.yaml: file is 15,72[0-9],[0-9]{3} bytes long.*");
        // a JSON one too: it was read whole, whatever its size
        String hugeJson = "{\"id\": \"huge\", \"name\": \"" + "x".repeat(DefinitionReader.MAX_YAML_CODE_POINTS) + "\"}";
        assertThatThrownBy(() -> reader.read("huge.json", hugeJson)).isInstanceOf(DefinitionReadException.class)
                .hasMessageMatching("(?s).*huge\\.json: file is 3,145,[0-9]{3} characters long: a definition is at most.*");
        java.nio.file.Path jsonFile = java.nio.file.Files.writeString(dir.resolve("huger.json"), hugeJson.repeat(5));
        assertThatThrownBy(() -> reader.readNotingFieldProblems(jsonFile)).isInstanceOf(DefinitionReadException.class)
                .hasMessageMatching("(?s).*huger\\.json: file is 15,72[0-9],[0-9]{3} bytes long.*");
    }

    @Test
    void readsYamlWithTheSpecFieldNames() throws Exception {
        WorkflowDefinition wf = reader.read("wf.yaml", """
                id: wf
                name: W
                trigger: T
                onSuccess: DONE
                config: { timeout_ms: 1000, max_retries: 2, allow_partial_success: true }
                steps:
                  - id: a
                    agent: x
                    action: y
                    condition: { step: a, output_key: ok, operator: eq, value: true }
                    config: { allow_failure: true, retry_backoff_ms: 10 }
                """).definition();
        assertThat(wf.onSuccess()).isEqualTo("DONE");
        assertThat(wf.config().timeoutMs()).isEqualTo(1000L);
        assertThat(wf.steps().get(0).condition().value()).isEqualTo(BooleanNode.TRUE);
        assertThat(wf.steps().get(0).config().retryBackoffMs()).isEqualTo(10L);
    }

    @Test
    void readsJson() throws Exception {
        WorkflowDefinition wf = reader.read("wf.json", """
                {"id": "wf", "name": "W", "trigger": "T", "steps": [{"id": "a", "agent": "x", "action": "y"}]}
                """).definition();
        assertThat(wf.steps()).extracting(WorkflowStep::id).containsExactly("a");
    }

    /** Some editors save UTF-8 with a byte order mark first; it is not part of the document. */
    @Test
    void readsJsonAndYamlSavedWithAByteOrderMark() throws Exception {
        assertThat(reader.read("wf.json", "\uFEFF{\"id\": \"wf\", \"name\": \"W\", \"trigger\": \"T\", \"steps\": []}")
                .definition().id()).isEqualTo("wf");
        assertThat(reader.read("wf.yaml", "\uFEFFid: wf\nname: W\ntrigger: T\n").definition().id()).isEqualTo("wf");
    }

    @Test
    void unknownFieldNamesFileAndPath() {
        assertThat(errorOf("market_update.yaml", """
                id: wf
                steps:
                  - { id: a }
                  - { id: b }
                  - { id: c, config: { timeout: 5000 } }
                """)).isEqualTo("market_update.yaml: step \"c\": config: unknown field \"timeout\" (line 5, column 24)"
                + " (known fields: allow_failure, include_context, retry_backoff_max_ms, retry_backoff_ms, retry_count, retry_jitter,"
                + " timeout_ms): did you mean \"timeout_ms\"?");
    }

    @Test
    void unknownTopLevelField() {
        assertThat(errorOf("wf.yaml", "id: wf\ntimeout_ms: 5\n"))
                .startsWith("wf.yaml: unknown field \"timeout_ms\" (line 2, column 1) (known fields: config, id, name,");
    }

    @Test
    void wrongTypeSaysWhatWasExpectedAndFound() {
        assertThat(errorOf("wf.yaml", "id: wf\nconfig:\n  timeout_ms: soon\n"))
                .isEqualTo("wf.yaml: config.timeout_ms: expected an integer, found \"soon\" (line 3, column 15)");
        assertThat(errorOf("wf.yaml", "id: wf\nconfig: { max_retries: 1.5 }\n"))
                .isEqualTo("wf.yaml: config.max_retries: expected an integer, found 1.5 (line 2, column 24)");
        assertThat(errorOf("wf.yaml", "id: wf\nsteps: { id: a }\n"))
                .isEqualTo("wf.yaml: steps: expected a list, found a mapping (line 2, column 8)");
    }

    @Test
    void yamlSyntaxErrorIsCondensedToOneLine() {
        assertThat(errorOf("wf.yaml", "id: wf\nsteps:\n  - { id: a\n"))
                .isEqualTo("wf.yaml: steps[0]: YAML syntax error: while parsing a flow mapping (line 3, column 5):"
                        + " expected ',' or '}', but got <stream end> (line 4, column 1)");
    }

    @Test
    void jsonSyntaxError() {
        assertThat(errorOf("wf.json", "{\"id\": \"wf\", }"))
                .startsWith("wf.json: syntax error (line 1, column 14): Unexpected character ('}'");
    }

    /** Inside a step, where the syntax error is: before, where the enclosing object started (column 15, not 34). */
    @Test
    void jsonSyntaxErrorInsideAStepIsPlacedWhereItIs() {
        assertThat(errorOf("wf.json", """
                {"id": "wf", "name": "wf", "trigger": "T",
                 "steps": [
                   {"id": "a", "agent": "tester", "action": "x",
                    "config": {"timeout_ms": 500 "retry_count": 1}}
                 ]}
                """)).startsWith("wf.json: steps[0].config: syntax error (line 4, column 34): Unexpected character ('\"'");
    }

    @Test
    void duplicateKey() {
        assertThat(errorOf("wf.yaml", "id: a\nid: b\n")).isEqualTo("wf.yaml: duplicate key 'id' (line 2, column 3)");
    }

    @Test
    void emptyListItem() {
        assertThat(errorOf("wf.yaml", "id: a\nsteps:\n  - { id: s, agent: x, action: y }\n  -\n"))
                .isEqualTo("wf.yaml: steps[1]: is empty (a \"-\" or \"key:\" with nothing after it)");
        assertThat(errorOf("wf.yaml", "id: a\nsteps:\n  - id: s\n    depends_on:\n      - r\n      -\n"))
                .isEqualTo("wf.yaml: steps[0].depends_on[1]: is empty (a \"-\" or \"key:\" with nothing after it)");
    }

    /** A config written once and named again (an alias, or merged with "<<") reads as if written out at each place. */
    @Test
    void anchorsAliasesAndMergeKeysReadAsTheValueTheyName() throws Exception {
        WorkflowDefinition wf = reader.read("wf.yaml", """
                id: wf
                name: W
                trigger: T
                steps:
                  - id: a
                    agent: x
                    action: y
                    config: &patient { retry_count: 3, retry_backoff_ms: 250 }
                  - id: b
                    agent: x
                    action: y
                    config: *patient
                  - id: c
                    agent: x
                    action: y
                    config:
                      <<: *patient
                      allow_failure: true
                """).definition();
        assertThat(wf.steps()).extracting(step -> step.config().retryCount()).containsExactly(3, 3, 3);
        assertThat(wf.steps().get(1).config().retryBackoffMs()).isEqualTo(250L);
        assertThat(wf.steps().get(2).config().allowFailure()).isTrue();
    }

    /**
     * An anchored value that itself names an anchor (a config built on another) was read without what that one names
     * (Jackson replays it so): the merged fields were lost with no problem told. It is refused, naming where.
     */
    @Test
    void anAliasInsideAnAnchoredValueIsRefusedNamingWhere() {
        assertThat(errorOf("wf.yaml", """
                id: wf
                name: W
                trigger: T
                x-base: &base { retry_count: 3, retry_backoff_ms: 250 }
                x-slow: &slow { <<: *base, timeout_ms: 9000 }
                steps:
                  - { id: a, agent: x, action: y, config: *slow }
                """)).isEqualTo("wf.yaml: alias *base inside the value anchored &slow (line 5, column 21) is not read: the anchored"
                + " value would be replayed without what *base names; write the anchored value out in full, or name both anchors where it is used");
        assertThat(errorOf("wf.yaml", """
                id: wf
                x-keys: &keys [a]
                x-more: &more { list: [x, *keys] }
                steps:
                  - { id: a, agent: x, action: y }
                """)).startsWith("wf.yaml: alias *keys inside the value anchored &more (line 3, column 27)");
    }

    @Test
    void aMergeOfAListAnAliasNamedInACommentAndADuplicateApartFromAMergeAreToldAsTheyAre() {
        assertThat(errorOf("wf.yaml", """
                id: w
                steps:
                  - { id: a, agent: x, action: y, config: &a { retry_count: 1 } }
                  - { id: b, agent: x, action: y, config: &b { timeout_ms: 5 } }
                  - id: c
                    agent: x
                    action: y
                    config:
                      <<: [*a, *b]
                """)).startsWith("wf.yaml: steps[2].config: a merge (<<) takes one alias of a mapping, not a list of them (line 9,");
        assertThat(errorOf("wf.yaml", "id: w\n# an alias looks like *base\nsteps:\n  - id: a\n    config: *base\n"))
                .contains("alias *base names no anchor before it (line 5, column 13)");
        // a "<<" elsewhere in the file (a heredoc in a name) says nothing of a plain duplicate
        assertThat(errorOf("wf.yaml", "id: w\nname: \"cat <<EOF\"\nsteps:\n  - id: a\n    agent: x\n    action: y\n    action: z\n"))
                .isEqualTo("wf.yaml: step \"a\": duplicate key 'action' (line 7, column 11)");
    }

    /** A workflow's x- fields are its author's: a place for anchors the steps name. Not a step's: a misspelt field there. */
    @Test
    void aWorkflowsOwnXFieldsAreReadPastAndHoldAnchors() throws Exception {
        WorkflowDefinition wf = reader.read("wf.yaml", """
                id: wf
                name: W
                trigger: T
                x-patient: &patient { retry_count: 3, timeout_ms: 500 }
                x-notes: [anything, { at: all }]
                steps:
                  - { id: a, agent: x, action: y, config: *patient }
                """).definition();
        assertThat(wf.steps().get(0).config().retryCount()).isEqualTo(3);
        assertThat(reader.read("wf.json", "{\"id\": \"wf\", \"name\": \"W\", \"trigger\": \"T\", \"x-tool\": {\"v\": 1}, \"steps\": []}")
                .definition().id()).isEqualTo("wf");
        assertThat(errorOf("wf.yaml", "id: wf\nsteps:\n  - { id: a, agent: x, action: y, x-mine: 1 }\n"))
                .startsWith("wf.yaml: step \"a\": unknown field \"x-mine\"");
    }

    @Test
    void anAliasOfNoAnchorAndAMergedKeyGivenAgainAreNamed() {
        assertThat(errorOf("wf.yaml", "id: a\nconfig: *nowhere\n"))
                .isEqualTo("wf.yaml: alias *nowhere names no anchor before it (line 2, column 9):"
                        + " an anchor is written &nowhere on the value it names, above the alias");
        assertThat(errorOf("wf.yaml", """
                id: a
                steps:
                  - { id: s, agent: x, action: y, config: &quick { timeout_ms: 5 } }
                  - id: t
                    agent: x
                    action: y
                    config:
                      <<: *quick
                      timeout_ms: 9
                """))
                .isEqualTo("wf.yaml: step \"t\": config: duplicate key 'timeout_ms' (line 9, column 17): a key merged in with \"<<\""
                        + " is not given again beside it (the coordinator reads no overrides of a merge)");
    }

    /** YAML 1.2: yes, no, on and off are words; a boolean field takes only true and false. */
    @Test
    void yesAndNoAreWordsNotBooleans() throws Exception {
        LoadedDefinition loaded = new DefinitionReader().read("wf.yaml", """
                id: a
                name: n
                trigger: T
                steps:
                  - { id: ask, agent: x, action: y }
                  - { id: go, agent: x, action: y, depends_on: [ask], condition: { step: ask, output_key: answer, operator: eq, value: yes } }
                """);
        assertThat(loaded.definition().step("go").orElseThrow().condition().value().isTextual()).isTrue();
        assertThat(loaded.definition().step("go").orElseThrow().condition().value().asText()).isEqualTo("yes");
        assertThat(errorOf("wf.yaml", "id: a\nsteps:\n  - { id: s, agent: x, action: y, config: { allow_failure: yes } }\n"))
                .startsWith("wf.yaml: step \"s\": config.allow_failure: expected true or false, found \"yes\"");
    }

    @Test
    void emptyFileAndNonMappingDocument() {
        assertThat(errorOf("wf.yaml", "  \n")).isEqualTo("wf.yaml: file is empty");
        assertThat(errorOf("wf.yaml", "- a\n- b\n")).isEqualTo("wf.yaml: expected a mapping, found a list (line 1, column 1)");
        // told as "expected a mapping, found something else" before
        assertThat(errorOf("wf.yaml", "# a workflow, one day\n  # steps: []\n")).isEqualTo("wf.yaml: file holds only comments: no workflow");
    }

    @Test
    void aSecondYamlDocumentIsToldSo() {
        String workflow = "id: a\nname: A\ntrigger: A\nsteps: [{id: s, agent: x, action: y}]\n";
        assertThat(errorOf("wf.yaml", workflow + "---\n" + workflow))
                .isEqualTo("wf.yaml: unexpected content after the workflow (line 6, column 1): a second YAML document, begun by the"
                        + " --- of line 5; a file holds one workflow");
        assertThat(errorOf("wf.json", "{\"id\": \"a\"}\n{\"id\": \"b\"}\n")).isEqualTo("wf.json: unexpected content after the workflow (line 2, column 1)");
    }

    @Test
    void missingFileIsAReadError() {
        assertThatThrownBy(() -> reader.read(java.nio.file.Path.of("does/not/exist.yaml")))
                .isInstanceOf(DefinitionReadException.class)
                .hasMessageStartingWith("exist.yaml: cannot read file: ");
    }

    /** A file with too many unknown fields says the reading stopped rather than end its list without a word. */
    @Test
    void aFileWithMoreUnknownFieldsThanAreReadSaysSo() {
        StringBuilder yaml = new StringBuilder("id: wf\nname: W\ntrigger: T\n");
        for (int i = 0; i < 120; i++) {
            yaml.append("extra_").append(i).append(": 1\n");
        }
        try {
            reader.read("wf.yaml", yaml.toString());
            throw new AssertionError("expected problems");
        } catch (DefinitionReadException e) {
            assertThat(e.errors()).hasSize(102);
            assertThat(e.errors().get(101).toString())
                    .isEqualTo("wf.yaml: the reading stopped after 100 unknown fields and values of the wrong type: the file may have more");
        }
    }

    /** A number or a boolean where text belongs was read as its text: an onFailure: true sent events of type "true". */
    @Test
    void aNumberOrABooleanWhereTextBelongsIsAValueOfTheWrongType() {
        try {
            reader.read("wf.yaml", """
                    id: w
                    name: 12
                    trigger: T
                    onFailure: true
                    steps:
                      - { id: a, agent: x, action: 1.50 }
                    """);
            throw new AssertionError("expected problems");
        } catch (DefinitionReadException e) {
            assertThat(e.errors()).extracting(Object::toString).containsExactly(
                    "wf.yaml: name: expected a string, found 12 (line 2, column 7)",
                    "wf.yaml: onFailure: expected a string, found true (line 4, column 12)",
                    "wf.yaml: step \"a\": action: expected a string, found 1.5 (line 6, column 32)");
        }
    }

    /** A number too large for its field is one more refused value: told in its words, and the values after it still are. */
    @Test
    void aNumberOutOfRangeIsToldAndTheReadingGoesOnPastIt() {
        try {
            reader.read("wf.yaml", """
                    id: w
                    name: n
                    trigger: T
                    steps:
                      - { id: a, agent: x, action: y, config: { timeout_ms: soon } }
                      - { id: b, agent: x, action: y, config: { retry_count: 3000000000 } }
                      - { id: c, agent: x, action: y, config: { allow_failure: 3 } }
                    """);
            throw new AssertionError("expected problems");
        } catch (DefinitionReadException e) {
            assertThat(e.errors()).extracting(Object::toString).containsExactly(
                    "wf.yaml: step \"a\": config.timeout_ms: expected an integer, found \"soon\" (line 5, column 57)",
                    "wf.yaml: step \"b\": config.retry_count: expected an integer, found 3000000000 (far too large) (line 6, column 58)",
                    "wf.yaml: step \"c\": config.allow_failure: expected true or false, found 3 (line 7, column 60)");
        }
        assertThat(errorOf("wf.yaml", "id: w\nsteps:\n  - { id: b, agent: x, action: y, config: { retry_count: 3000000000 } }\n"))
                .isEqualTo("wf.yaml: step \"b\": config.retry_count: expected an integer, found 3000000000 (far too large) (line 3, column 58)");
    }

    /** A key given twice stops the reading past wrong values, but is told beside them, and they are told as ever. */
    @Test
    void aDuplicateKeyAfterAWrongValueIsToldToo() {
        try {
            reader.read("wf.yaml", "id: w\nsteps:\n  - { id: a, agent: x, action: y, config: { timeout_ms: soon } }\nname: n\nname: m\n");
            throw new AssertionError("expected problems");
        } catch (DefinitionReadException e) {
            assertThat(e.errors()).extracting(Object::toString).containsExactly(
                    "wf.yaml: step \"a\": config.timeout_ms: expected an integer, found \"soon\" (line 3, column 57)",
                    "wf.yaml: duplicate key 'name' (line 5, column 5)");
        }
    }

    /** A wrong value of a key given twice is named where it is, the last time (it was named at the first). */
    @Test
    void aWrongValueOfAKeyGivenTwiceIsNamedWhereItIs() {
        try {
            reader.read("wf.yaml", "id: w\nname: n\ntrigger: T\nversion: 1\nversion: two\nsteps: [{ id: a, agent: x, action: y }]\n");
            throw new AssertionError("expected problems");
        } catch (DefinitionReadException e) {
            assertThat(e.errors()).extracting(Object::toString).containsExactly(
                    "wf.yaml: duplicate key 'version' (line 5, column 8)",
                    "wf.yaml: version: expected an integer, found \"two\" (line 5, column 10)");
        }
    }

    /** A key given twice before a wrong value no longer hides it: the values after it are read past as ever. */
    @Test
    void aDuplicateKeyBeforeWrongValuesIsToldWithThem() {
        try {
            reader.read("wf.yaml", "id: w\nname: n\nname: m\nsteps:\n  - { id: a, agent: x, action: y, config: { timeout_ms: soon } }\n"
                    + "  - { id: b, agent: x, action: y, retries: 3 }\n");
            throw new AssertionError("expected problems");
        } catch (DefinitionReadException e) {
            assertThat(e.errors()).extracting(Object::toString).containsExactly(
                    "wf.yaml: duplicate key 'name' (line 3, column 5)",
                    "wf.yaml: step \"a\": config.timeout_ms: expected an integer, found \"soon\" (line 5, column 57)",
                    "wf.yaml: step \"b\": unknown field \"retries\" (line 6, column 35) (known fields: action, agent, compensate, condition,"
                            + " config, depends_on, description, id, input_mapping, locks, loop)");
        }
        try {
            reader.read("wf.json", "{\"id\": \"w\", \"id\": \"v\", \"steps\": [{\"id\": \"a\", \"agent\": \"x\", \"action\": \"y\", \"retries\": 3}]}");
            throw new AssertionError("expected problems");
        } catch (DefinitionReadException e) {
            assertThat(e.errors()).hasSize(2);
            assertThat(e.errors().get(0).toString()).startsWith("wf.json: duplicate key 'id'");
            assertThat(e.errors().get(1).toString()).contains("step \"a\": unknown field \"retries\"");
        }
    }
}
