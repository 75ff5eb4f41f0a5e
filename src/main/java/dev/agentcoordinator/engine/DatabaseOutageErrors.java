package dev.agentcoordinator.engine;

import org.apache.camel.LoggingLevel;
import org.apache.camel.builder.RouteConfigurationBuilder;

/**
 * How every route reports a failure because PostgreSQL cannot be reached: one WARN line naming the
 * route and the cause, instead of Camel's ERROR with the whole stack trace. Nothing about the failure
 * changes: the exception stays on the exchange, so a broker message goes back to the broker and the
 * route's {@link DatabaseOutageBreaker} pauses it; an HTTP caller gets its error. Any other failure is
 * logged as before. (A route configuration without an id applies to every route.) A failure because the connection to
 * the broker was lost ({@link BrokerUnreachable}: a send on a pooled producer closed with a broker restart) is
 * reported the same way, and so is a transaction PostgreSQL aborted in a deadlock ({@link TransactionConflict}).
 */
public final class DatabaseOutageErrors extends RouteConfigurationBuilder {
    /** The logger of the outage lines (also the HTTP API's 503 lines). */
    public static final String LOG_NAME = "dev.agentcoordinator.engine.DatabaseOutage";

    @Override
    public void configuration() {
        routeConfiguration()
                .onException(Exception.class)
                    .onWhen(exchange -> DatabaseUnreachable.causes(exchange.getException()))
                    .logExhausted(false)
                    .log(LoggingLevel.WARN, LOG_NAME, "route ${routeId} failed, database unreachable: ${exception.message}")
                .end()
                // the same for the broker: a send on a connection lost with a broker restart (the message is delivered again)
                .onException(Exception.class)
                    .onWhen(exchange -> BrokerUnreachable.causes(exchange.getException()))
                    .logExhausted(false)
                    .log(LoggingLevel.WARN, BROKER_LOG_NAME, "route ${routeId} failed, broker connection lost: ${exception.message}")
                .end()
                // PostgreSQL aborted the transaction in a deadlock with another (it runs again): no fault of the coordinator
                .onException(Exception.class)
                    .onWhen(exchange -> TransactionConflict.causes(exchange.getException()))
                    .logExhausted(false)
                    .log(LoggingLevel.WARN, LOG_NAME, "route ${routeId}: PostgreSQL aborted its transaction in a conflict with a"
                            + " concurrent one (it runs again: the message is delivered again, a sweep at its next period):"
                            + " ${exception.message}");
    }

    /** The logger of the broker's outage lines. */
    public static final String BROKER_LOG_NAME = "dev.agentcoordinator.engine.BrokerOutage";
}
