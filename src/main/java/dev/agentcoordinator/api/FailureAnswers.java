package dev.agentcoordinator.api;

import dev.agentcoordinator.engine.DatabaseOutageErrors;
import org.apache.camel.Exchange;
import org.apache.camel.support.ExchangeHelper;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How the API answers a request that failed, and what it logs (the API's onException clauses). A
 * failure inside one of the engine's routes never reaches them: that route's error handler deals with
 * it first, and Camel then leaves it alone in the caller. The API catches those itself (doCatch) where
 * it calls into the engine: cancel and retry.
 */
final class FailureAnswers {
    private static final Logger FAULTS = LoggerFactory.getLogger("dev.agentcoordinator.api");
    private static final Logger OUTAGES = LoggerFactory.getLogger(DatabaseOutageErrors.LOG_NAME);

    private FailureAnswers() {
    }

    /** The database cannot be reached: the client's to retry (503, {@code Retry-After}). */
    static void outage(Exchange exchange) {
        OUTAGES.warn("route {} answered 503, database unreachable: {}", ExchangeHelper.getAtRouteId(exchange), caught(exchange).getMessage());
        ApiRoutes.respond(exchange, 503, ExecutionViews.error("the database cannot be reached; try again later"));
        exchange.getMessage().setHeader("Retry-After", "5");
    }

    /** A fault of the coordinator: logged with its stack trace, answered with the exchange id that finds it in the log. */
    static void fault(Exchange exchange) {
        FAULTS.error("route {} failed (exchange {})", ExchangeHelper.getAtRouteId(exchange), exchange.getExchangeId(), caught(exchange));
        ApiRoutes.respond(exchange, 500, ExecutionViews.error("internal error (exchange " + exchange.getExchangeId()
                + ", see the coordinator's log)"));
    }

    private static Exception caught(Exchange exchange) {
        return exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Exception.class);
    }
}
