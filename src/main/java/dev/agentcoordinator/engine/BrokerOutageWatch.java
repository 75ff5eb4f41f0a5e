package dev.agentcoordinator.engine;

import jakarta.jms.Connection;
import jakarta.jms.ConnectionFactory;
import jakarta.jms.JMSException;
import org.apache.activemq.artemis.api.core.client.FailoverEventType;
import org.apache.activemq.artemis.jms.client.ActiveMQConnection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Tells the {@link ReplyBacklog} when the broker cannot be reached. The reply consumers do not notice an
 * outage themselves (the client reconnects underneath them, and they just receive nothing), so the timeout
 * sweeps would otherwise settle as timed out attempts whose replies came in time and wait in the broker's
 * queue. One connection of its own, with the client's reconnection, reports the loss and the reconnection
 * (Artemis' failover events: a reconnection to the same broker is reported as one). The consumers reconnect
 * on their own schedule, up to the client's longest retry interval later, so the backlog is told only then.
 * A broker that cannot be reached when the watch starts counts as an outage until a connection succeeds.
 * <p>
 * The client handles each connection's failure on its JVM-wide pool, which is bounded: when a broker is lost, the other
 * connections' reconnection attempts can hold all of it until the broker is back, and the loss would be reported only
 * then. So the watch also looks at its connection's socket every {@link #SOCKET_CHECK_MS} on its own thread; a closed
 * one is an outage at once, and the client's failover events tell the rest as before.
 */
public final class BrokerOutageWatch implements org.apache.camel.Service {
    private static final Logger LOG = LoggerFactory.getLogger(BrokerOutageWatch.class);

    /** The client's longest retry interval by default (Messaging's maxRetryInterval): by then every consumer reconnected too. */
    static final long CONSUMERS_RECONNECTED_MS = 5_000;
    /** How often the watch's own thread looks at its connection's socket. */
    static final long SOCKET_CHECK_MS = 250;

    private final ConnectionFactory factory;
    /** The backlogs whose sweeps hold while the broker cannot be reached (step replies, message responses). */
    private final java.util.List<ReplyBacklog> backlogs;
    private final long reconnectedAfterMs;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(runnable -> {
        Thread thread = new Thread(runnable, "coordinator-broker-watch");
        thread.setDaemon(true);
        return thread;
    });
    private Connection connection;
    /**
     * The client's connection under {@link #connection} as of its last (re)connection, looked at by the socket check.
     * Kept, not asked for: the session factory's getConnection() connects itself while the client reconnects.
     */
    private org.apache.activemq.artemis.spi.core.protocol.RemotingConnection socket;
    private ScheduledFuture<?> reachableAgain;
    private boolean stopped;

    private BrokerOutageWatch(ConnectionFactory factory, java.util.List<ReplyBacklog> backlogs, long reconnectedAfterMs) {
        this.factory = factory;
        this.backlogs = java.util.List.copyOf(backlogs);
        this.reconnectedAfterMs = reconnectedAfterMs;
        connect();
        timer.scheduleWithFixedDelay(this::checkSocket, SOCKET_CHECK_MS, SOCKET_CHECK_MS, TimeUnit.MILLISECONDS);
    }

    /**
     * Watches the broker {@code factory} connects to (a plain Artemis factory, with reconnection; the watch closes
     * it). The consumers are taken to have reconnected the factory's longest retry interval after the watch did.
     */
    public static BrokerOutageWatch start(ConnectionFactory factory, ReplyBacklog... backlogs) {
        long longestRetryMs = factory instanceof org.apache.activemq.artemis.jms.client.ActiveMQConnectionFactory artemis
                ? Math.max(artemis.getMaxRetryInterval(), artemis.getRetryInterval()) : CONSUMERS_RECONNECTED_MS;
        return new BrokerOutageWatch(factory, java.util.List.of(backlogs), Math.max(CONSUMERS_RECONNECTED_MS, longestRetryMs));
    }

    static BrokerOutageWatch start(ConnectionFactory factory, ReplyBacklog backlog, long reconnectedAfterMs) {
        return new BrokerOutageWatch(factory, java.util.List.of(backlog), reconnectedAfterMs);
    }

    private void markUnreachable() {
        backlogs.forEach(ReplyBacklog::brokerUnreachable);
    }

    private void markReachable() {
        backlogs.forEach(ReplyBacklog::brokerReachable);
    }

    private boolean markedUnreachable() {
        return backlogs.stream().anyMatch(ReplyBacklog::isBrokerUnreachable);
    }

    /** The watch's connection; while none can be made, an outage, tried again every {@code reconnectedAfterMs}. */
    private synchronized void connect() {
        if (stopped) {
            return;
        }
        Connection opened = null;
        try {
            opened = factory.createConnection();
            if (!(opened instanceof ActiveMQConnection artemis)) {
                throw new IllegalArgumentException("not an Artemis connection factory: " + factory.getClass().getName());
            }
            artemis.setFailoverListener(this::onEvent);
            opened.start();
            boolean wasUnreachable = markedUnreachable();
            connection = opened;
            socket = artemis.getSessionFactory().getConnection();   // just made: taken as it is, not made again
            if (wasUnreachable) {
                onEvent(FailoverEventType.FAILOVER_COMPLETED);
            }
        } catch (JMSException e) {
            closeQuietly(opened);
            if (!markedUnreachable()) {
                markUnreachable();
                LOG.warn("the broker cannot be reached ({}): attempt and execution timeouts wait until it answers", e.getMessage());
            }
            timer.schedule(this::connect, reconnectedAfterMs, TimeUnit.MILLISECONDS);
        }
    }

    /** A closed socket under the watch's connection: the loss, whether or not the client has got to handling it yet. */
    private synchronized void checkSocket() {
        try {
            if (!stopped && connection != null && !socketOpen(socket)) {
                lost();
            }
        } catch (RuntimeException | Error e) {   // a periodic task that throws is never run again
            LOG.warn("the broker watch could not look at its connection's socket: {}", e.toString());
        }
    }

    private static boolean socketOpen(org.apache.activemq.artemis.spi.core.protocol.RemotingConnection remoting) {
        org.apache.activemq.artemis.spi.core.remoting.Connection transport = remoting == null || remoting.isDestroyed()
                ? null : remoting.getTransportConnection();
        return transport != null && transport.isOpen();
    }

    /** Told once per outage: by the socket check or by the client's failure event, whichever comes first. */
    private void lost() {
        boolean wasReachableAgain = reachableAgain != null;
        if (wasReachableAgain) {
            reachableAgain.cancel(false);
            reachableAgain = null;
        }
        if (wasReachableAgain || !markedUnreachable()) {
            markUnreachable();
            LOG.warn("the broker cannot be reached: attempt and execution timeouts wait until it answers again");
        }
    }

    private synchronized void onEvent(FailoverEventType event) {
        switch (event) {
            case FAILURE_DETECTED -> lost();
            case FAILOVER_COMPLETED -> {
                LOG.info("the broker answers again: timeouts resume once the reply consumers have reconnected too");
                if (connection instanceof ActiveMQConnection artemis) {
                    socket = artemis.getSessionFactory().getConnection();   // the one the client just made
                }
                if (!stopped) {
                    reachableAgain = timer.schedule(this::markReachable, reconnectedAfterMs, TimeUnit.MILLISECONDS);
                }
            }
            default -> {
                // the client gave up reconnecting (a URL that bounds reconnectAttempts): a new connection, when one can be made
                LOG.warn("the broker could not be reached again ({}): timeouts stay on hold until a new connection succeeds", event);
                markUnreachable();
                closeQuietly(connection);
                connection = null;
                if (!stopped) {
                    timer.schedule(this::connect, reconnectedAfterMs, TimeUnit.MILLISECONDS);
                }
            }
        }
    }

    /** Watching from its creation on: nothing to start. */
    @Override
    public void start() {
    }

    /** Stopped with the Camel context it was added to, before the broker stops. */
    @Override
    public synchronized void stop() {
        stopped = true;
        timer.shutdownNow();
        closeQuietly(connection);
        connection = null;
        if (factory instanceof AutoCloseable owned) {   // its server locator
            try {
                owned.close();
            } catch (Exception e) {
                LOG.debug("closing the broker watch's connection factory", e);
            }
        }
    }

    @Override
    public void close() {
        stop();
    }

    private static void closeQuietly(Connection connection) {
        if (connection == null) {
            return;
        }
        try {
            connection.close();
        } catch (JMSException e) {
            LOG.debug("closing the broker watch's connection", e);
        }
    }
}
