package dev.agentcoordinator.engine;

import org.apache.camel.Exchange;
import org.apache.camel.LoggingLevel;
import org.apache.camel.Predicate;
import org.apache.camel.Processor;
import org.apache.camel.builder.RouteBuilder;

import static dev.agentcoordinator.engine.Headers.SQL_UPDATE_COUNT;
import static dev.agentcoordinator.engine.Headers.SWEEP_LIMIT;

/**
 * Retention ({@code coordinator.retention.days}; off at 0): a settled execution is deleted that many
 * days after it ended, with its step rows, attempts and signals; the records kept beside executions
 * (events, replies no step waited for, agent messages, lock preemptions) that many days after they
 * arrived. Running executions are never touched, however old. Each statement deletes a batch, oldest
 * first, and runs again while its batches come back full, up to {@link #MAX_BATCHES} a run, so a
 * backlog (retention switched on for a large history) is worked off over a few runs without one long
 * transaction. The sweep has a timer thread of its own: a long run must not hold up the timeouts and
 * retries on the shared sweep thread.
 */
public class RetentionRoutes extends RouteBuilder {
    static final String ROUTE_ID = "coordinator.retention";
    static final String RETENTION_DAYS = "retentionDays";
    /** Rows one statement deletes at most in one go. */
    static final int BATCH = 500;
    /** Batches of one statement in one run of the sweep at most. */
    static final int MAX_BATCHES = 20;

    private final int days;
    private final long periodMs;

    public RetentionRoutes(int days, long periodMs) {
        if (days < 1) {
            throw new IllegalArgumentException("retention needs at least 1 day, not " + days);
        }
        this.days = days;
        this.periodMs = periodMs;
    }

    @Override
    public void configure() {
        from("timer:coordinator-retention?delay=" + periodMs + "&period=" + periodMs)
                .routeId(ROUTE_ID)
                .routeDescription("deletes executions settled more than " + days + " day(s) ago, with their steps,"
                        + " and the events, ignored replies, messages and lock preemptions older than that")
                .setHeader(RETENTION_DAYS, constant(days))
                .setHeader(SWEEP_LIMIT, constant(BATCH))
                .loopDoWhile(moreToDelete("executions"))
                    .to(Sql.update("delete-expired-executions")).id("delete-expired-executions")
                    .process(tally("executions"))
                .end()
                .loopDoWhile(moreToDelete("events"))
                    .to(Sql.update("delete-expired-events")).id("delete-expired-events")
                    .process(tally("events"))
                .end()
                .loopDoWhile(moreToDelete("records"))
                    .to(Sql.row("delete-expired-records")).id("delete-expired-records")
                    .process(tally("records"))
                .end()
                .filter(RetentionRoutes::deletedAny)
                    .log(LoggingLevel.INFO, Endpoints.PROGRESS_LOG, "retention (" + days + (days == 1 ? " day" : " days") + "): deleted"
                            + " ${exchangeProperty.executions.deleted} settled execution(s) with their steps,"
                            + " ${exchangeProperty.events.deleted} event(s), ${exchangeProperty.records.deleted} other record(s)")
                .end();
    }

    /** The first batch, and another while the last one was full. */
    private static Predicate moreToDelete(String what) {
        return exchange -> {
            int batches = exchange.getProperty(what + ".batches", 0, Integer.class);
            int last = exchange.getProperty(what + ".last", 0, Integer.class);
            return batches == 0 || last >= BATCH && batches < MAX_BATCHES;
        };
    }

    /** Counts a batch: an update count, or the one value of a statement that returns one (camel-sql's SelectOne of one column). */
    private static Processor tally(String what) {
        return exchange -> {
            int deleted = exchange.getMessage().getBody() instanceof Number value
                    ? value.intValue()
                    : exchange.getMessage().getHeader(SQL_UPDATE_COUNT, 0, Integer.class);
            exchange.setProperty(what + ".last", deleted);
            exchange.setProperty(what + ".batches", exchange.getProperty(what + ".batches", 0, Integer.class) + 1);
            exchange.setProperty(what + ".deleted", exchange.getProperty(what + ".deleted", 0L, Long.class) + deleted);
            exchange.getMessage().setBody(null);
        };
    }

    private static boolean deletedAny(Exchange exchange) {
        for (String what : new String[]{"executions", "events", "records"}) {
            if (exchange.getProperty(what + ".deleted", 0L, Long.class) > 0) {
                return true;
            }
        }
        return false;
    }
}
