package dev.agentcoordinator.engine;

import dev.agentcoordinator.ops.DatabaseHealthCheck;
import org.apache.camel.Exchange;
import org.apache.camel.Route;
import org.apache.camel.health.HealthCheck;
import org.apache.camel.health.HealthCheckRegistry;
import org.apache.camel.model.RouteDefinition;
import org.apache.camel.spi.ExceptionHandler;
import org.apache.camel.spi.RoutePolicyFactory;
import org.apache.camel.support.DefaultConsumer;
import org.apache.camel.throttling.ThrottlingExceptionRoutePolicy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Pauses a route started by the broker or a timer while PostgreSQL is unreachable and resumes it once
 * the database answers. A broker consumer then costs each message in flight a delivery or two during
 * an outage of any length, instead of the broker's whole redelivery budget, after which it would park
 * the message on the dead-letter address for an operator; a sweep stops failing (and logging) five
 * times a second. It is Camel's circuit-breaker route policy (which suspends and resumes the consumer;
 * the messages it holds stay with it), opened by this class at the first failure that says the
 * database cannot be reached, and closed by this class too: every {@link #PROBE_PERIOD_MS} a probe
 * thread asks the database health check (the readiness probe's {@code SELECT 1}), without taking a
 * message to find out, and resumes the route when it answers. (Camel's own half-open timers are
 * re-armed by exchanges that end while the breaker is open, and one of them can cancel the next and
 * leave the route paused for good.)
 */
public final class DatabaseOutageBreaker extends ThrottlingExceptionRoutePolicy {
    private static final Logger LOG = LoggerFactory.getLogger(DatabaseOutageBreaker.class);

    static final long PROBE_PERIOD_MS = 1_000;

    /**
     * Told when it opens on an outage (not on a write refused as read-only, nor on a full disk: both answer reads) and
     * closes.
     */
    private final dev.agentcoordinator.infra.KnownDatabaseOutage outage;
    private final Runnable whenOpened;
    private final Runnable beforeClosed;
    /** The probe while the breaker is open (written under this; read without it on every exchange). */
    private volatile ScheduledExecutorService probe;

    /** Whether the failure that opens the breaker was a write refused as read-only (set just before it opens). */
    private volatile boolean openedOnReadOnly;

    /**
     * Whether it was PostgreSQL out of a resource (a full disk: {@code could not extend file}). The server still answers
     * the health check's read, so that alone resumed the route every second, each resume costing the messages at the
     * head of its queue a delivery, until the broker dead-lettered them after ten (events and replies lost to the
     * coordinator). The probe then also writes ({@link #canWrite}).
     */
    private volatile boolean openedOnResources;

    /** What the failure that opened the breaker said, the driver's words (set just before it opens). */
    private volatile String openedOn;

    private DatabaseOutageBreaker(dev.agentcoordinator.infra.KnownDatabaseOutage outage, Runnable whenOpened, Runnable beforeClosed) {
        // Camel's failure count is not used: onExchangeDone opens the breaker by DatabaseUnreachable
        super(1, 60_000, PROBE_PERIOD_MS, List.of());
        this.outage = outage;
        this.whenOpened = whenOpened;
        this.beforeClosed = beforeClosed;
    }

    /**
     * A breaker for every route a broker message or a timer starts (the routes the API or another
     * route starts fail their caller instead); that of a route whose consumers feed a backlog
     * ({@code backlogs}, by route id: the step replies', the message responses') also holds the sweeps
     * judging by it while it is open (see {@link ReplyBacklog}). Each tells {@code outage} when it opens and when its
     * probe sees the database answer.
     */
    public static RoutePolicyFactory everyConsumer(java.util.Map<String, ReplyBacklog> backlogs,
                                                   dev.agentcoordinator.infra.KnownDatabaseOutage outage) {
        return (context, routeId, route) -> {
            String uri = route instanceof RouteDefinition definition && definition.getInput() != null
                    ? definition.getInput().getEndpointUri() : null;
            if (uri == null || !(uri.startsWith("jms:") || uri.startsWith("timer:"))) {
                return null;
            }
            ReplyBacklog backlog = backlogs.get(routeId);
            DatabaseOutageBreaker breaker = new DatabaseOutageBreaker(outage,
                    backlog != null ? backlog::consumersSuspended : () -> { },
                    backlog != null ? backlog::consumersResumed : () -> { });
            breaker.setCamelContext(context);
            return breaker;
        };
    }

    /**
     * Opens at the first exchange that failed because the database is unreachable. While open, the
     * exchanges still in flight when it opened change nothing: only the probe closes it.
     */
    @Override
    public void onExchangeDone(Route route, Exchange exchange) {
        if (probe == null && DatabaseUnreachable.causes(exchange.getException())) {
            openedOnReadOnly = DatabaseUnreachable.readOnly(exchange.getException());
            openedOnResources = DatabaseUnreachable.outOfResources(exchange.getException());
            openedOn = innermostMessage(exchange.getException());
            openCircuit(route);
        }
    }

    /** The innermost SQLException's message ("Connection to host:port refused. …"), else the innermost cause's. */
    static String innermostMessage(Throwable failure) {
        Throwable told = DatabaseUnreachable.inTheDriversWords(failure);
        String message = told == null || told.getMessage() == null ? String.valueOf(told) : told.getMessage().strip();
        return message.length() > 300 ? message.substring(0, 300) + "…" : message;
    }

    @Override
    protected synchronized void openCircuit(Route route) {
        if (probe != null) {
            return;
        }
        if (!openedOnReadOnly && !openedOnResources) {   // a standby and a full disk still answer the API's reads
            outage.seen(this, openedOn);
        }
        whenOpened.run();
        super.openCircuit(route);
        probe = getCamelContext().getExecutorServiceManager()
                .newSingleThreadScheduledExecutor(this, "database-outage-probe-" + route.getRouteId());
        probe.scheduleWithFixedDelay(() -> closeWhenTheDatabaseAnswers(route), PROBE_PERIOD_MS, PROBE_PERIOD_MS,
                TimeUnit.MILLISECONDS);
        if (openedOnResources) {
            LOG.warn("database out of resources (a full disk?): route {} paused until it can write again (checked every {} ms)",
                    route.getRouteId(), PROBE_PERIOD_MS);
        } else {
            LOG.warn("database unreachable: route {} paused until it answers again (checked every {} ms)",
                    route.getRouteId(), PROBE_PERIOD_MS);
        }
    }

    /**
     * A timer consumer logs the failure of its exchange again, with its stack trace; an outage is
     * logged once already (see {@link DatabaseOutageErrors}) and here when the route pauses.
     */
    /** The bound on the probe that stands in for a health check switched off. */
    private static final int PROBE_TIMEOUT_SECONDS = 2;

    @Override
    public void onStart(Route route) {
        super.onStart(route);
        if (route.getConsumer() instanceof DefaultConsumer consumer
                && !(consumer.getExceptionHandler() instanceof QuietAboutOutages)) {
            consumer.setExceptionHandler(new QuietAboutOutages(consumer.getExceptionHandler()));
        }
    }

    /** A consumer's exception handler that passes on every failure but an outage (of the database or the broker) or a deadlock. */
    private record QuietAboutOutages(ExceptionHandler logsFailures) implements ExceptionHandler {
        @Override
        public void handleException(Throwable exception) {
            handleException(null, null, exception);
        }

        @Override
        public void handleException(String message, Throwable exception) {
            handleException(message, null, exception);
        }

        @Override
        public void handleException(String message, Exchange exchange, Throwable exception) {
            // each logged once already, in one WARN line (DatabaseOutageErrors); a timer consumer logged a broker's again,
            // with its stack trace (a chaos run's broker kill)
            if (!DatabaseUnreachable.causes(exception) && !BrokerUnreachable.causes(exception) && !TransactionConflict.causes(exception)) {
                logsFailures.handleException(message, exchange, exception);
            }
        }
    }

    /**
     * A route stopped while its breaker is open (an operator's stop) no longer keeps the outage known, and its breaker
     * closes without resuming anything: started again while the database is still unreachable, its consumer would
     * otherwise run with the breaker open (the probe only closes it), each message failing a delivery every connection
     * timeout until the broker dead-letters it. Closed, the first failure opens it again and pauses the route.
     */
    @Override
    public void onStop(Route route) {
        synchronized (this) {
            if (probe != null) {
                getCamelContext().getExecutorServiceManager().shutdownNow(probe);
                probe = null;
                beforeClosed.run();
            }
        }
        outage.over(this);
        super.onStop(route);
    }

    /** Camel's half-open timer is not used: the probe closes the breaker. */
    @Override
    protected void addHalfOpenTimer(Route route) {
    }

    private void closeWhenTheDatabaseAnswers(Route route) {
        if (databaseAnswers() && (!openedOnResources || canWrite())) {
            closeCircuit(route);
        }
    }

    /**
     * Whether PostgreSQL can write new pages again: a temporary table of about 30 pages, made in a transaction that is
     * rolled back (nothing of the coordinator's is touched), needs its file extended as an insert into a state table
     * does, and fails with {@code could not extend file} while the disk is full.
     */
    private boolean canWrite() {
        return probed("write", connection -> {
            boolean autoCommit = connection.getAutoCommit();
            connection.setAutoCommit(false);
            try (java.sql.Statement statement = connection.createStatement()) {
                statement.setQueryTimeout(PROBE_TIMEOUT_SECONDS);
                statement.execute("CREATE TEMPORARY TABLE coordinator_write_probe ON COMMIT DROP AS"
                        + " SELECT md5(g::text) AS x FROM generate_series(1, 4000) g");
            } finally {
                connection.rollback();
                connection.setAutoCommit(autoCommit);
            }
        });
    }

    /** What a probe asks on a connection of the pool; it throws when the database does not do it. */
    @FunctionalInterface
    private interface ConnectionProbe {
        void ask(java.sql.Connection connection) throws java.sql.SQLException;
    }

    /**
     * Whether {@code probe} passed on a connection of the pool (within its connection timeout); true when the registry
     * holds no data source: nothing to ask, as before this breaker existed.
     */
    private boolean probed(String what, ConnectionProbe probe) {
        javax.sql.DataSource dataSource = getCamelContext().getRegistry().findSingleByType(javax.sql.DataSource.class);
        if (dataSource == null) {
            return true;
        }
        try (java.sql.Connection connection = dataSource.getConnection()) {
            probe.ask(connection);
            return true;
        } catch (java.sql.SQLException | RuntimeException e) {
            LOG.debug("database probe ({}) failed: {}", what, e.getMessage());
            return false;
        }
    }

    /**
     * The database health check's answer; with Camel's health checks switched off (or the database check
     * excluded, UNKNOWN), a bounded probe of its own: resuming on "no answer" would cost every message in
     * flight a delivery each second, and the broker would dead-letter them after ten.
     */
    private boolean databaseAnswers() {
        HealthCheckRegistry registry = HealthCheckRegistry.get(getCamelContext());
        HealthCheck.State state = registry == null ? HealthCheck.State.UNKNOWN : registry.getCheck(DatabaseHealthCheck.ID)
                .map(check -> check.call().getState()).orElse(HealthCheck.State.UNKNOWN);
        return state == HealthCheck.State.UNKNOWN ? answersDirectly() : state == HealthCheck.State.UP;
    }

    private boolean answersDirectly() {
        // a standby does not record transitions
        return probed("read", connection -> DatabaseHealthCheck.checkWritable(connection, PROBE_TIMEOUT_SECONDS));
    }


    @Override
    protected synchronized void closeCircuit(Route route) {
        if (probe == null) {
            return;
        }
        outage.over(this);
        beforeClosed.run();
        super.closeCircuit(route);
        getCamelContext().getExecutorServiceManager().shutdown(probe);
        probe = null;
        LOG.info("database {} again: route {} resumed", openedOnResources ? "writes" : "answers", route.getRouteId());   // a recovery: nothing to act on
    }

    @Override
    protected synchronized void doStop() throws Exception {
        if (probe != null) {
            getCamelContext().getExecutorServiceManager().shutdownNow(probe);
            probe = null;
        }
        outage.over(this);
        super.doStop();
    }
}
