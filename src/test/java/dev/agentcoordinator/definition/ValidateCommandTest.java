package dev.agentcoordinator.definition;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

class ValidateCommandTest {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    private int run(String... args) {
        return ValidateCommand.run(args, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    @Test
    void shippedWorkflowsAreValid() {
        assertThat(run("routes/workflows")).isZero();
        assertThat(out.toString(StandardCharsets.UTF_8).trim()).isEqualTo(
                "OK: 6 workflow(s) valid: interview_completed, job_matched, market_update, response_refinement, resume_uploaded,"
                        + " roadmap_revision");
    }

    @Test
    void theDefaultFolderIsRoutesWorkflows() {
        assertThat(run()).isZero();
        assertThat(out.toString(StandardCharsets.UTF_8)).startsWith("OK: 6 workflow(s) valid: ");
    }

    @Test
    void everyErrorIsPrintedAndTheExitCodeIsOne() {
        assertThat(run(WorkflowCatalogTest.resource("broken").toString())).isEqualTo(1);
        String printed = err.toString(StandardCharsets.UTF_8);
        assertThat(printed).startsWith("7 problem(s) in workflow definitions:");
        assertThat(printed).contains("  - market_update.yaml: steps[2].config: unknown field \"timeout\"",
                "  - cycle.yaml: depends_on: cycle a -> c -> b -> a",
                "  - interview_completed.yaml: step \"adjust_roadmap\": condition.step: \"check_impact\" is not a step of this workflow");
        assertThat(out.size()).isZero();
    }

    @Test
    void aSingleFileCanBeChecked(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("one.yaml"), "id: one\nname: One\ntrigger: ONE\nsteps: [{id: s, agent: x, action: y}]\n");
        assertThat(run(file.toString())).isZero();
        assertThat(out.toString(StandardCharsets.UTF_8).trim()).isEqualTo("OK: 1 workflow(s) valid: one");
    }

    @Test
    void tooManyArgumentsIsAUsageError() {
        assertThat(run("a", "b")).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8)).startsWith("usage: ");
    }
}
