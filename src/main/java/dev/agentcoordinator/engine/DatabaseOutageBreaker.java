package dev.agentcoordinator.engine;

import org.apache.camel.Exchange;
import org.apache.camel.Route;
import org.apache.camel.health.HealthCheck;
import org.apache.camel.health.HealthCheckRegistry;
import org.apache.camel.model.RouteDefinition;
import org.apache.camel.spi.RoutePolicyFactory;
import org.apache.camel.throttling.ThrottlingExceptionRoutePolicy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.dao.DataAccessResourceFailureException;
import org.springframework.dao.TransientDataAccessResourceException;

import java.sql.SQLNonTransientConnectionException;
import java.sql.SQLTransientConnectionException;
import java.util.List;

/**
 * Pauses a route started by the broker or a timer while PostgreSQL is unreachable and resumes it once
 * the database answers. A broker consumer then costs each message in flight a delivery or two during
 * an outage of any length, instead of the broker's whole redelivery budget, after which it would park
 * the message on the dead-letter address for an operator; a sweep stops failing (and logging) five
 * times a second. Camel's circuit-breaker route policy: the first failure that says the database
 * cannot be reached opens it (the consumer is suspended; the messages it holds stay with it); every
 * {@link #PROBE_PERIOD_MS} the database health check (the readiness probe's {@code SELECT 1}) decides
 * whether to close it, without taking a message to find out.
 */
public final class DatabaseOutageBreaker extends ThrottlingExceptionRoutePolicy {
    private static final Logger LOG = LoggerFactory.getLogger(DatabaseOutageBreaker.class);

    static final long PROBE_PERIOD_MS = 1_000;
    /** What the pool and the JDBC driver throw when PostgreSQL cannot be reached (also as causes). */
    private static final List<Class<?>> UNREACHABLE = List.of(DataAccessResourceFailureException.class,
            TransientDataAccessResourceException.class, SQLTransientConnectionException.class,
            SQLNonTransientConnectionException.class);
    /** The id of {@code ops.DatabaseHealthCheck}. */
    private static final String DATABASE_CHECK = "database";

    private final Runnable whenOpened;
    private final Runnable beforeClosed;
    private volatile boolean open;

    private DatabaseOutageBreaker(Runnable whenOpened, Runnable beforeClosed) {
        super(1, 60_000, PROBE_PERIOD_MS, UNREACHABLE);
        this.whenOpened = whenOpened;
        this.beforeClosed = beforeClosed;
        setHalfOpenHandler(this::databaseAnswers);
    }

    /**
     * A breaker for every route a broker message or a timer starts (the routes the API or another
     * route starts fail their caller instead); the reply consumers' also holds the timeout sweeps while
     * it is open (see {@link ReplyBacklog}).
     */
    public static RoutePolicyFactory everyConsumer(String replyRouteId, ReplyBacklog backlog) {
        return (context, routeId, route) -> {
            String uri = route instanceof RouteDefinition definition && definition.getInput() != null
                    ? definition.getInput().getEndpointUri() : null;
            if (uri == null || !(uri.startsWith("jms:") || uri.startsWith("timer:"))) {
                return null;
            }
            DatabaseOutageBreaker breaker = routeId.equals(replyRouteId)
                    ? new DatabaseOutageBreaker(backlog::consumersSuspended, backlog::consumersResumed)
                    : new DatabaseOutageBreaker(() -> { }, () -> { });
            breaker.setCamelContext(context);
            return breaker;
        };
    }

    private boolean databaseAnswers() {
        return HealthCheckRegistry.get(getCamelContext()).getCheck(DATABASE_CHECK)
                .map(check -> check.call().getState() == HealthCheck.State.UP)
                .orElse(true);
    }

    /**
     * While open, only the probe's timer moves the breaker. Camel's policy also checks again on every
     * exchange that ends: one still in flight when it opened can then open it anew (a new timer) just
     * before the pending probe runs, and that probe cancels the new timer and finds its wait not over,
     * which leaves the route paused for good.
     */
    @Override
    public void onExchangeDone(Route route, Exchange exchange) {
        if (!open) {
            super.onExchangeDone(route, exchange);
        }
    }

    /** As Camel's, without formatting the breaker's state on every exchange (Camel logs that at DEBUG, formatted first). */
    @Override
    protected boolean isThresholdExceeded() {
        return getFailures() >= getFailureThreshold() && getLastFailure() >= System.currentTimeMillis() - getFailureWindow();
    }

    @Override
    protected void openCircuit(Route route) {
        if (!open) {   // it opens again after every probe that finds the database still unreachable
            open = true;
            whenOpened.run();
            LOG.warn("database unreachable: route {} paused until it answers again (checked every {} ms)",
                    route.getRouteId(), PROBE_PERIOD_MS);
        }
        super.openCircuit(route);
    }

    @Override
    protected void closeCircuit(Route route) {
        if (open) {
            beforeClosed.run();
        }
        super.closeCircuit(route);
        if (open) {
            open = false;
            LOG.warn("database answers again: route {} resumed", route.getRouteId());
        }
    }
}
