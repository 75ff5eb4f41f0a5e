package dev.agentcoordinator.definition;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Definitions a new user gets wrong: each told plainly, naming the file, the step and the field. */
class NewUserDefinitionsTest {

    private static final String WORKFLOW = """
            id: wf
            name: W
            trigger: T
            steps:
              - id: a
                agent: strategist
                action: %s
            """;

    /**
     * A file saved as Latin-1 (an editor's default on some systems) was refused with the JVM's exception,
     * "cannot read file: java.nio.charset.MalformedInputException: Input length = 3": neither "UTF-8" nor where.
     * An event body that is not UTF-8 is told as "not UTF-8 text: byte 0xe9 at offset 60"; a definition should be too.
     */
    @Test
    void aFileThatIsNotUtf8IsToldSoWithTheByteAndItsLine(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("latin1.yaml");
        Files.write(file, ("# caf\u00e9 order\n" + WORKFLOW.formatted("greet")).getBytes(StandardCharsets.ISO_8859_1));
        assertThatThrownBy(() -> new DefinitionReader().read(file)).isInstanceOf(DefinitionReadException.class)
                .hasMessageContaining("latin1.yaml: file is not UTF-8 text: byte 0xe9 at offset 5 (line 1, column 6)")
                .hasMessageNotContaining("MalformedInputException");
    }

    /**
     * Event types and paths with spaces around them are refused ("keys match exactly"); an action was not, and the
     * agent then failed every such step at run time: "agent strategist has no handler for action draft_response
     * (known: ..., draft_response, ...)".
     */
    @Test
    void anActionWithSpacesAroundItIsRefused() {
        assertThat(DefinitionValidatorTest.errorsOf(WORKFLOW.formatted("'draft_response '"))).containsExactly(
                "wf.yaml: step \"a\": action: \"draft_response \" has spaces around it, and agents match actions exactly:"
                        + " write \"draft_response\"");
    }

    /** A zero-width space or a control character in an id is written out, not printed as nothing. */
    @Test
    void whatCannotBeSeenInAnIdIsWrittenOut() {
        List<String> errors = DefinitionValidatorTest.errorsOf(WORKFLOW.formatted("greet").replace("id: a", "id: \"a\\u200b\\a\""));
        assertThat(errors).hasSize(1);
        assertThat(errors.get(0)).startsWith("wf.yaml: step \"a\\u200b\\u0007\": id: \"a\\u200b\\u0007\" is not a valid name");
    }

    @Test
    void aCompensationsActionWithSpacesAroundItIsRefusedToo() {
        List<String> errors = DefinitionValidatorTest.errorsOf(WORKFLOW.formatted("greet")
                + "    compensate: { agent: strategist, action: ' undo' }\n");
        assertThat(errors).containsExactly("wf.yaml: step \"a\": compensate.action: \" undo\" has spaces around it, and agents"
                + " match actions exactly: write \"undo\"");
    }
}
