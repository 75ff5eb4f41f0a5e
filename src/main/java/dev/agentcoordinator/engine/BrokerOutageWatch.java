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
 * <p>
 * Neither tells whether the reply consumers take again once the broker answers: they may still be reconnecting, fail
 * again, or be refused the new sessions they need (a broker still starting answers {@code Server not started} with its
 * connections left open). So, for each backlog given its queue, the watch also looks at that queue's oldest message
 * (a browse, every {@link #LOOK_MS} on a thread of its own, while its consumers took no reply for a while): the hold of
 * a quiet spell then rests on what it saw, not on the quiet (see {@link ReplyBacklog}).
 */
public final class BrokerOutageWatch implements org.apache.camel.Service {
    private static final Logger LOG = LoggerFactory.getLogger(BrokerOutageWatch.class);

    /** The client's longest retry interval by default (Messaging's maxRetryInterval): by then every consumer reconnected too. */
    static final long CONSUMERS_RECONNECTED_MS = 5_000;
    /** How often the watch's own thread looks at its connection's socket. */
    static final long SOCKET_CHECK_MS = 250;
    /** How often the watch looks at a quiet backlog's queue (a session and a browser, made and closed). */
    static final long LOOK_MS = 500;

    private final ConnectionFactory factory;
    /** The backlogs whose sweeps hold while the broker cannot be reached (step replies, message responses). */
    private final java.util.List<ReplyBacklog> backlogs;
    private final long reconnectedAfterMs;
    /** The queues the watch looks at, by the backlog a look tells. */
    private final java.util.Map<ReplyBacklog, String> queues;
    /** Its own thread: a look waits for the broker (a session during reconnection), the socket check must not. */
    private final ScheduledExecutorService looks = Executors.newSingleThreadScheduledExecutor(runnable -> {
        Thread thread = new Thread(runnable, "coordinator-reply-queue-look");
        thread.setDaemon(true);
        return thread;
    });
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(runnable -> {
        Thread thread = new Thread(runnable, "coordinator-broker-watch");
        thread.setDaemon(true);
        return thread;
    });
    private volatile Connection connection;
    /**
     * The client's connection under {@link #connection} as of its last (re)connection, looked at by the socket check.
     * Kept, not asked for: the session factory's getConnection() connects itself while the client reconnects.
     */
    private org.apache.activemq.artemis.spi.core.protocol.RemotingConnection socket;
    private ScheduledFuture<?> reachableAgain;
    private boolean stopped;

    private BrokerOutageWatch(ConnectionFactory factory, java.util.List<ReplyBacklog> backlogs, long reconnectedAfterMs,
                              java.util.Map<ReplyBacklog, String> queues) {
        this.factory = factory;
        this.backlogs = java.util.List.copyOf(backlogs);
        this.reconnectedAfterMs = reconnectedAfterMs;
        this.queues = new java.util.LinkedHashMap<>(queues);
        if (!queues.isEmpty() && factory instanceof org.apache.activemq.artemis.jms.client.ActiveMQConnectionFactory artemis) {
            artemis.setConsumerWindowSize(0);   // a look reads one message: the broker sends no more ahead
        }
        queues.keySet().forEach(ReplyBacklog::looksAtQueue);
        connect();
        timer.scheduleWithFixedDelay(this::checkSocket, SOCKET_CHECK_MS, SOCKET_CHECK_MS, TimeUnit.MILLISECONDS);
        if (!queues.isEmpty()) {
            looks.scheduleWithFixedDelay(this::lookAtQueues, LOOK_MS, LOOK_MS, TimeUnit.MILLISECONDS);
        }
    }

    /**
     * Watches the broker {@code factory} connects to (a plain Artemis factory, with reconnection; the watch closes
     * it). The consumers are taken to have reconnected the factory's longest retry interval after the watch did.
     */
    public static BrokerOutageWatch start(ConnectionFactory factory, ReplyBacklog... backlogs) {
        return new BrokerOutageWatch(factory, java.util.List.of(backlogs), consumersReconnectedMs(factory), java.util.Map.of());
    }

    /** As {@link #start(ConnectionFactory, ReplyBacklog...)}, and looks at each backlog's queue while it is quiet. */
    public static BrokerOutageWatch start(ConnectionFactory factory, java.util.Map<ReplyBacklog, String> queues) {
        return new BrokerOutageWatch(factory, java.util.List.copyOf(queues.keySet()), consumersReconnectedMs(factory), queues);
    }

    static BrokerOutageWatch start(ConnectionFactory factory, ReplyBacklog backlog, long reconnectedAfterMs) {
        return new BrokerOutageWatch(factory, java.util.List.of(backlog), reconnectedAfterMs, java.util.Map.of());
    }

    static BrokerOutageWatch start(ConnectionFactory factory, ReplyBacklog backlog, String queue, long reconnectedAfterMs) {
        return new BrokerOutageWatch(factory, java.util.List.of(backlog), reconnectedAfterMs, java.util.Map.of(backlog, queue));
    }

    private static long consumersReconnectedMs(ConnectionFactory factory) {
        long longestRetryMs = factory instanceof org.apache.activemq.artemis.jms.client.ActiveMQConnectionFactory artemis
                ? Math.max(artemis.getMaxRetryInterval(), artemis.getRetryInterval()) : CONSUMERS_RECONNECTED_MS;
        return Math.max(CONSUMERS_RECONNECTED_MS, longestRetryMs);
    }

    /**
     * Each quiet backlog's queue, as it is now: the arrival of its oldest message (the broker's stamp, else its JMS
     * timestamp), or none. A look that fails (no session: the broker unreachable or refusing them) tells nothing, so the
     * backlog's last look stands and its hold grows; a refused browse permission ends the looks at that queue.
     */
    private void lookAtQueues() {
        try {
            for (java.util.Map.Entry<ReplyBacklog, String> queue : queues.entrySet()) {
                ReplyBacklog backlog = queue.getKey();
                Connection watched = connection;
                if (watched == null || !backlog.wantsQueueLook()) {
                    continue;
                }
                long startedAt = backlog.now();
                try (jakarta.jms.Session session = watched.createSession(false, jakarta.jms.Session.AUTO_ACKNOWLEDGE);
                     jakarta.jms.QueueBrowser browser = session.createBrowser(session.createQueue(queue.getValue()))) {
                    java.util.Enumeration<?> queued = browser.getEnumeration();
                    long oldest = queued.hasMoreElements() ? arrivalOf((jakarta.jms.Message) queued.nextElement()) : 0;
                    // a reply queued without any stamp (no ingress timestamp, a sender that set no JMS timestamp) is no
                    // empty queue: its arrival is unknown, so the last look stands
                    if (oldest != UNSTAMPED) {
                        backlog.queueLooked(startedAt, oldest);
                    }
                } catch (jakarta.jms.JMSSecurityException refused) {
                    backlog.queueLooksRefused();
                    LOG.warn("may not browse {} ({}): after a quiet spell, timeouts take its queue to be drained", queue.getValue(),
                            refused.getMessage());
                } catch (JMSException failed) {
                    LOG.debug("could not look at {}: {}", queue.getValue(), failed.toString());
                }
            }
        } catch (RuntimeException | Error e) {   // a periodic task that throws is never run again
            LOG.warn("the broker watch could not look at a reply queue: {}", e.toString());
        }
    }

    /** A queued message's arrival when it carries no stamp at all. */
    private static final long UNSTAMPED = -1;

    private static long arrivalOf(jakarta.jms.Message message) throws JMSException {
        long arrived = message.propertyExists(ReplyBacklog.INGRESS_TIMESTAMP) ? message.getLongProperty(ReplyBacklog.INGRESS_TIMESTAMP)
                : message.getJMSTimestamp();
        return arrived > 0 ? arrived : UNSTAMPED;
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
        looks.shutdownNow();
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
