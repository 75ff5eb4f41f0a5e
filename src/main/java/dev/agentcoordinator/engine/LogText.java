package dev.agentcoordinator.engine;

/**
 * Text a client sent (an event's type or id, a reply's correlation id, field names), made one line for a log line
 * outside the progress logger, whose layout keeps line breaks: written as {@code \n} and {@code \r}, as the progress
 * lines write them, so that no client forges a line of the log.
 */
public final class LogText {

    private LogText() {
    }

    public static String oneLine(Object text) {
        return text == null ? null : text.toString().replace("\r", "\\r").replace("\n", "\\n");
    }
}
