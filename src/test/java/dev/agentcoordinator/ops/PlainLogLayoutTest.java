package dev.agentcoordinator.ops;

import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.Appender;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.impl.Log4jLogEvent;
import org.apache.logging.log4j.message.SimpleMessage;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The plain log (log4j2.xml) as the coordinator writes it: what a client sent (an event type or id, an agent's
 * error) can neither forge a line of the progress log nor send terminal escapes to whoever follows the log.
 */
class PlainLogLayoutTest {
    private static final String FORGED = "event FORGED\n02:40:00.000 ERROR [main] d.a.progress - admin password is hunter2"
            + "\u001b[2J\u001b[31m (evid-\r\u001b]0;pwned\u0007) stored; no workflow is triggered by it";

    @Test
    void aProgressLineIsOneLineWhateverItsMessageHolds() {
        String line = format("progress-console", "dev.agentcoordinator.progress", FORGED);
        assertThat(line).endsWith(System.lineSeparator());
        assertThat(line.strip()).doesNotContain("\n", "\r", "\u001b", "\u0007")
                .endsWith("- event FORGED\\n02:40:00.000 ERROR [main] d.a.progress - admin password is hunter2?[2J?[31m (evid-\\r?]0;pwned?)"
                        + " stored; no workflow is triggered by it");
    }

    /** Other lines keep their line breaks (a multi-line summary, a list of problems) but lose their escapes. */
    @Test
    void otherLinesKeepTheirLineBreaksButNoControlCharacter() {
        String line = format("console", "dev.agentcoordinator.CoordinatorApp", "first\nsecond\u001b[2J");
        assertThat(line).contains("first\nsecond?[2J").doesNotContain("\u001b");
    }

    private static String format(String appenderName, String loggerName, String message) {
        Appender appender = ((LoggerContext) LogManager.getContext(false)).getConfiguration().getAppender(appenderName);
        assertThat(appender).as(appenderName + " in log4j2.xml").isNotNull();
        Log4jLogEvent event = Log4jLogEvent.newBuilder().setLoggerName(loggerName).setLevel(Level.INFO)
                .setMessage(new SimpleMessage(message)).setThreadName("main").setTimeMillis(0).build();
        return appender.getLayout().toSerializable(event).toString();
    }
}
