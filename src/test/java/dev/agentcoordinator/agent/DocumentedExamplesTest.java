package dev.agentcoordinator.agent;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * docs/agent-protocol.md shows the AMQP long-work agent whole, and users copy it: it is the runnable file in
 * examples/python but for that file's docstring. The copy in the doc had drifted from the file, and without the
 * file's answer to a stop with reply_wanted it kept a cancelled step's lock until the attempt's deadline.
 */
class DocumentedExamplesTest {

    @Test
    void theDocsAmqpLongWorkAgentIsTheExamplesFile() throws Exception {
        String doc = Files.readString(Path.of("docs/agent-protocol.md"));
        int section = doc.indexOf("### Python over AMQP, for long work");
        int start = doc.indexOf("```python\n", section) + "```python\n".length();
        String shown = doc.substring(start, doc.indexOf("\n```\n", start) + 1);

        String file = Files.readString(Path.of("examples/python/amqp_long_work_agent.py"));
        String withoutDocstring = file.substring(file.indexOf("\"\"\"", 3) + 3).stripLeading();
        assertThat(shown).isEqualTo(withoutDocstring);
    }
}
