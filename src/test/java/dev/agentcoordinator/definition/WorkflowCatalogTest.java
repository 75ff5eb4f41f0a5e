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

    @Test
    void everyProblemOfEveryFileIsReported() {
        InvalidDefinitionsException e = catchThrowableOfType(InvalidDefinitionsException.class,
                () -> WorkflowCatalog.load(resource("broken")));
        // files in name order: a parse error excludes its file but the others are still validated
        assertThat(e.errors()).containsExactly(
                "market_update.yaml: steps[2].config: unknown field \"timeout\" (known fields: allow_failure, include_context, retry_backoff_ms,"
                        + " retry_count, timeout_ms)",
                "syntax_error.yaml: steps[0]: YAML syntax error: while parsing a flow mapping (line 6, column 5):"
                        + " expected ',' or '}', but got <stream end> (line 7, column 1)",
                "wrong_types.yaml: config.timeout_ms: expected an integer, found \"soon\" (line 6, column 15)",
                "cycle.yaml: depends_on: cycle a -> c -> b -> a (each step depends on the next)",
                "interview_completed.yaml: step \"adjust_roadmap\": condition.step: \"check_impact\" is not a step of this workflow",
                "interview_completed.yaml: step \"adjust_roadmap\": input_mapping.analysis.from_step: \"analyze_interview\""
                        + " is not an ancestor of this step through depends_on, so it may not have run yet (add it to depends_on)",
                "same_trigger.json: trigger: \"INTERVIEW_COMPLETED\" is also the trigger of workflow \"interview_completed\""
                        + " in interview_completed.yaml (one workflow per trigger)");
        assertThat(e.getMessage()).startsWith("7 problem(s) in workflow definitions:\n  - market_update.yaml: ");
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
    }

    @Test
    void loadsAnExplicitListOfFiles() throws Exception {
        WorkflowCatalog catalog = WorkflowCatalog.load(List.of(resource("broken/same_trigger.json")));
        assertThat(catalog.byTrigger("INTERVIEW_COMPLETED")).isPresent();
    }

    @Test
    void aMissingFolderIsAnError(@TempDir Path dir) {
        assertThatThrownBy(() -> WorkflowCatalog.load(dir.resolve("nope")))
                .isInstanceOf(InvalidDefinitionsException.class)
                .hasMessageEndingWith("nope: not a directory");
    }
}
