package dev.agentcoordinator.engine;

import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LogEvent;
import org.apache.logging.log4j.core.Logger;
import org.apache.logging.log4j.core.appender.AbstractAppender;
import org.apache.logging.log4j.core.config.Property;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** The lines one logger (and the loggers under it) writes while it is open, each as {@code LEVEL message [thrown]}. */
public final class CapturedLog implements AutoCloseable {
    private final Logger logger;
    private final List<String> lines = new CopyOnWriteArrayList<>();
    private final List<String> withCauses = new CopyOnWriteArrayList<>();
    private final AbstractAppender appender;

    private CapturedLog(Logger logger) {
        this.logger = logger;
        this.appender = new AbstractAppender("captured-" + System.identityHashCode(this), null, null, true, Property.EMPTY_ARRAY) {
            @Override
            public void append(LogEvent event) {
                String line = event.getLevel() + " " + event.getMessage().getFormattedMessage()
                        + (event.getThrown() == null ? "" : " " + event.getThrown());
                lines.add(line);
                StringBuilder causes = new StringBuilder(line);
                for (Throwable cause = event.getThrown() == null ? null : event.getThrown().getCause(); cause != null;
                     cause = cause.getCause() == cause ? null : cause.getCause()) {
                    causes.append(" caused by ").append(cause);
                }
                withCauses.add(causes.toString());
            }
        };
        appender.start();
        logger.addAppender(appender);
    }

    public static CapturedLog of(String loggerName) {
        return new CapturedLog((Logger) LogManager.getLogger(loggerName));
    }

    public static CapturedLog ofRoot() {
        return new CapturedLog((Logger) LogManager.getRootLogger());
    }

    /** The lines so far. */
    public List<String> lines() {
        return List.copyOf(lines);
    }

    /** The lines so far, each followed by the causes of what it logged as thrown ({@code caused by ...}). */
    public List<String> linesWithCauses() {
        return List.copyOf(withCauses);
    }

    /** The lines so far at {@code level} or above. */
    public List<String> atLeast(Level level) {
        return lines.stream().filter(line -> Level.toLevel(line.substring(0, line.indexOf(' '))).isMoreSpecificThan(level)).toList();
    }

    @Override
    public void close() {
        logger.removeAppender(appender);
        appender.stop();
    }
}
