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
 * connections left open). So, for each backlog given its queue, the watch also looks at the oldest message of that
 * queue (browses, every {@link #LOOK_MS} on a thread of its own, while its consumers took no reply for a while): the
 * hold of a quiet spell then rests on what it saw, not on the quiet (see {@link ReplyBacklog}). A browse does not show
 * the replies in delivery to a consumer (its buffer), which a database outage leaves in the suspended consumers; while a
 * backlog keeps those back, a look that browses nothing also counts the queue, in-delivery messages included.
 */
public final class BrokerOutageWatch implements org.apache.camel.Service {
    private static final Logger LOG = LoggerFactory.getLogger(BrokerOutageWatch.class);

    /** The client's longest retry interval by default (Messaging's maxRetryInterval): by then every consumer reconnected too. */
    static final long CONSUMERS_RECONNECTED_MS = 5_000;
    /** How often the watch's own thread looks at its connection's socket. */
    static final long SOCKET_CHECK_MS = 250;
    /** How often the watch looks at a quiet backlog's queue (browses on a session kept between looks). */
    static final long LOOK_MS = 500;
    /**
     * How many browses a look makes at most (one message each): one per priority level holding a reply older than
     * those of the levels above, and one that finds none older; a look that needs more tells nothing.
     */
    static final int LOOK_ROUNDS = 16;
    /**
     * A look's last browse walks the whole queue on the broker, on the queue's own executor, delaying its deliveries
     * meanwhile (50,000 queued replies: 240 ms): after a look that took {@code t}, the next waits at least this many times
     * {@code t}, so that looks keep the queue at most a tenth of the time. A short look (an empty or shallow queue, a few
     * ms) changes nothing: the next comes {@link #LOOK_MS} later as before.
     */
    static final int LOOK_PAUSE_FACTOR = 9;
    /** How often a queue whose browse was refused is tried again: a permission may be given back. */
    static final long LOOK_REFUSED_RETRY_MS = 60_000;

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
    /** The looks' session and the connection it is on (the looks' thread alone uses them). */
    private org.apache.activemq.artemis.jms.client.ActiveMQSession lookSession;
    private Connection lookSessionOn;
    /** When a backlog's queue last refused a look or failed its retry (System.nanoTime), while refused (the looks' thread). */
    private final java.util.Map<ReplyBacklog, Long> refusedAt = new java.util.HashMap<>();
    /** Per backlog, the {@link System#nanoTime()} before which its queue is not looked at again ({@link #LOOK_PAUSE_FACTOR}). */
    private final java.util.Map<ReplyBacklog, Long> nextLookAt = new java.util.HashMap<>();
    private final long refusedRetryMs;
    /**
     * The client's connection under {@link #connection} as of its last (re)connection, looked at by the socket check.
     * Kept, not asked for: the session factory's getConnection() connects itself while the client reconnects.
     */
    private org.apache.activemq.artemis.spi.core.protocol.RemotingConnection socket;
    private ScheduledFuture<?> reachableAgain;
    /** Set by {@link #stop()}; read by the looks' thread too, which the stop interrupts. */
    private volatile boolean stopped;

    private BrokerOutageWatch(ConnectionFactory factory, java.util.List<ReplyBacklog> backlogs, long reconnectedAfterMs,
                              java.util.Map<ReplyBacklog, String> queues, long refusedRetryMs) {
        this.factory = factory;
        this.refusedRetryMs = refusedRetryMs;
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
        return new BrokerOutageWatch(factory, java.util.List.of(backlogs), consumersReconnectedMs(factory), java.util.Map.of(),
                LOOK_REFUSED_RETRY_MS);
    }

    /** As {@link #start(ConnectionFactory, ReplyBacklog...)}, and looks at each backlog's queue while it is quiet. */
    public static BrokerOutageWatch start(ConnectionFactory factory, java.util.Map<ReplyBacklog, String> queues) {
        return new BrokerOutageWatch(factory, java.util.List.copyOf(queues.keySet()), consumersReconnectedMs(factory), queues, LOOK_REFUSED_RETRY_MS);
    }

    static BrokerOutageWatch start(ConnectionFactory factory, ReplyBacklog backlog, long reconnectedAfterMs) {
        return new BrokerOutageWatch(factory, java.util.List.of(backlog), reconnectedAfterMs, java.util.Map.of(), LOOK_REFUSED_RETRY_MS);
    }

    static BrokerOutageWatch start(ConnectionFactory factory, ReplyBacklog backlog, String queue, long reconnectedAfterMs) {
        return start(factory, backlog, queue, reconnectedAfterMs, LOOK_REFUSED_RETRY_MS);
    }

    static BrokerOutageWatch start(ConnectionFactory factory, ReplyBacklog backlog, String queue, long reconnectedAfterMs,
                                   long refusedRetryMs) {
        return new BrokerOutageWatch(factory, java.util.List.of(backlog), reconnectedAfterMs, java.util.Map.of(backlog, queue),
                refusedRetryMs);
    }

    private static long consumersReconnectedMs(ConnectionFactory factory) {
        long longestRetryMs = factory instanceof org.apache.activemq.artemis.jms.client.ActiveMQConnectionFactory artemis
                ? Math.max(artemis.getMaxRetryInterval(), artemis.getRetryInterval()) : CONSUMERS_RECONNECTED_MS;
        return Math.max(CONSUMERS_RECONNECTED_MS, longestRetryMs);
    }

    /**
     * Each quiet backlog's queue, as it is now: the arrival of its oldest message (the broker's stamp, else its JMS
     * timestamp), or none. A look that fails (no session: the broker unreachable or refusing them) tells nothing, so the
     * backlog's last look stands and its hold grows; a refused browse permission makes its quiet spells count as no
     * backlog until a look tried every {@code refusedRetryMs} is allowed again (meanwhile replies a database outage kept
     * back are counted, which needs no browse).
     */
    private void lookAtQueues() {
        try {
            for (java.util.Map.Entry<ReplyBacklog, String> queue : queues.entrySet()) {
                ReplyBacklog backlog = queue.getKey();
                Connection watched = connection;
                Long refused = refusedAt.get(backlog);
                boolean wanted = refused == null ? backlog.wantsQueueLook()
                        : System.nanoTime() - refused >= TimeUnit.MILLISECONDS.toNanos(refusedRetryMs) && backlog.wantsRefusedLookTried();
                if (watched != null && refused != null && !wanted && backlog.wantsQueueCount()) {
                    // the count needs no browse permission: replies kept back by a database outage are held for until
                    // it finds the queue empty, not until the hold's bound, where no reply comes (its agents gone)
                    countAt(watched, backlog, queue.getValue());
                    continue;
                }
                Long next = nextLookAt.get(backlog);
                if (watched == null || !wanted || next != null && System.nanoTime() - next < 0) {
                    continue;
                }
                // paced by the broker's work alone: a look that waited for a session (a reconnection, up to the call
                // timeout) or failed tells nothing of the queue's depth, and must not put the next off by 9 times that
                long browsed = lookAt(watched, backlog, queue.getValue(), refused != null);
                nextLookAt.put(backlog, System.nanoTime() + pauseAfterLook(browsed));
            }
        } catch (RuntimeException | Error e) {   // a periodic task that throws is never run again
            if (stopped) {   // the stop interrupted a look waiting for the broker (ActiveMQInterruptedException): no fault
                LOG.debug("a look at a reply queue ended by the watch's stop: {}", e.toString());
                return;
            }
            LOG.warn("the broker watch could not look at a reply queue: {}", e.toString());
        }
    }

    /** @return how long its browses (and count) took, in ns; 0 when the look failed */
    private long lookAt(Connection watched, ReplyBacklog backlog, String queue, boolean refusedBefore) {
        long startedAt = backlog.now();
        try {
            lookSession(watched);   // made (again) before the browses are timed
            long browsing = System.nanoTime();
            long oldest = oldestQueued(watched, queue);
            if (refusedBefore) {
                refusedAt.remove(backlog);
                // the look before the refusal is stale: an unstamped head counts as seen now, as before a first look
                backlog.queueLooksAllowed(startedAt, oldest == UNSTAMPED ? 0 : oldest);
                LOG.info("may browse {} again: after a quiet spell, timeouts hold for the replies it still has", queue);
            } else if (oldest != UNSTAMPED) {
                // a reply queued without any stamp (no ingress timestamp, a sender that set no JMS timestamp) is no
                // empty queue: its arrival is unknown, so the last look stands
                backlog.queueLooked(startedAt, oldest);
            }
            if (oldest == 0 && backlog.wantsQueueCount() && countedEmpty(watched, queue)) {
                backlog.queueCountedEmpty(startedAt);
            }
            return System.nanoTime() - browsing;
        } catch (org.apache.activemq.artemis.api.core.ActiveMQSecurityException | jakarta.jms.JMSSecurityException refused) {
            if (!refusedBefore) {
                backlog.queueLooksRefused();
                LOG.warn("may not browse {} ({}): after a quiet spell, timeouts take its queue to be drained; tried again every {} s",
                        queue, refused.getMessage(), TimeUnit.MILLISECONDS.toSeconds(refusedRetryMs));
            } else {
                LOG.debug("still may not browse {}: {}", queue, refused.getMessage());
            }
            refusedAt.put(backlog, System.nanoTime());
        } catch (org.apache.activemq.artemis.api.core.ActiveMQNonExistentQueueException missing) {
            LOG.debug("could not look at {}: {}", queue, missing.toString());   // the session is fine
            retryLater(backlog, refusedBefore);
        } catch (org.apache.activemq.artemis.api.core.ActiveMQException | JMSException failed) {
            LOG.debug("could not look at {}: {}", queue, failed.toString());
            closeLookSession();   // made again at the next look
            retryLater(backlog, refusedBefore);
        }
        return 0;
    }

    /** A count alone, of a queue whose browse was refused. */
    private void countAt(Connection watched, ReplyBacklog backlog, String queue) {
        long startedAt = backlog.now();
        try {
            if (countedEmpty(watched, queue)) {
                backlog.queueCountedEmpty(startedAt);
            }
        } catch (JMSException failed) {
            LOG.debug("could not count {}: {}", queue, failed.toString());
            closeLookSession();   // made again at the next look
        }
    }

    /** How long after a look that took {@code tookNanos} the next may start, on top of {@link #LOOK_MS}'s schedule. */
    static long pauseAfterLook(long tookNanos) {
        return LOOK_PAUSE_FACTOR * tookNanos;
    }

    /** A refused queue whose retry failed otherwise is tried again at the refused pace, not at every look. */
    private void retryLater(ReplyBacklog backlog, boolean refusedBefore) {
        if (refusedBefore) {
            refusedAt.put(backlog, System.nanoTime());
        }
    }

    /**
     * The arrival of the oldest message queued (0: none queued; {@link #UNSTAMPED}: one has no stamp, or the look did not
     * settle in {@link #LOOK_ROUNDS} browses), read from properties only. A browse returns messages by priority, so the
     * first may be any but the oldest: each browse after the first asks the broker for the first message older than the
     * oldest seen so far (a filter on the stamp, evaluated by the broker, which returns one match), until none is. Bodies
     * are never read (a reply's may be tens of MB, and the client's JMS text message decodes its text on receipt): a
     * browse reads one message's properties and is closed, a large message's body is not streamed.
     */
    private long oldestQueued(Connection watched, String queue) throws JMSException, org.apache.activemq.artemis.api.core.ActiveMQException {
        org.apache.activemq.artemis.api.core.client.ClientSession session = lookSession(watched);
        org.apache.activemq.artemis.api.core.SimpleString name = org.apache.activemq.artemis.api.core.SimpleString.of(queue);
        long oldest = 0;
        for (int round = 0; round < LOOK_ROUNDS; round++) {
            org.apache.activemq.artemis.api.core.client.ClientConsumer browser = session.createConsumer(name,
                    oldest == 0 ? null : org.apache.activemq.artemis.api.core.SimpleString.of(arrivedBefore(oldest)), true);
            long arrived;
            try {
                org.apache.activemq.artemis.api.core.client.ClientMessage queued = browser.receiveImmediate();
                if (queued == null) {
                    return oldest;
                }
                arrived = arrivalOf(queued);
            } finally {
                browser.close();
            }
            if (arrived == UNSTAMPED || (oldest != 0 && arrived >= oldest)) {
                return UNSTAMPED;   // the broker's filter and the stamp read here disagree: not known
            }
            oldest = arrived;
        }
        return UNSTAMPED;
    }

    /**
     * A filter for the messages that arrived before {@code stamp}, as {@link #arrivalOf} reads their arrival: the broker's
     * ingress stamp (a core message's property, an AMQP message's annotation), else the message's timestamp.
     */
    static String arrivedBefore(long stamp) {
        return "_AMQ_INGRESS_TIMESTAMP < " + stamp + " OR \"m.x-opt-ingress-time\" < " + stamp
                + " OR (_AMQ_INGRESS_TIMESTAMP IS NULL AND \"m.x-opt-ingress-time\" IS NULL AND AMQTimestamp < " + stamp + ")";
    }

    /**
     * Whether the broker counts no message in the queue, those in delivery to a consumer (its buffer) and those scheduled
     * for redelivery included, which a browse does not show. A count that fails tells nothing (the backlog stays kept back,
     * up to its bound): it must not take the looks' permission away.
     */
    private boolean countedEmpty(Connection watched, String queue) throws JMSException {
        try {
            org.apache.activemq.artemis.api.core.client.ClientSession.QueueQuery counted = lookSession(watched)
                    .queueQuery(org.apache.activemq.artemis.api.core.SimpleString.of(queue));
            return !counted.isExists() || counted.getMessageCount() == 0;   // a queue not made yet holds nothing
        } catch (org.apache.activemq.artemis.api.core.ActiveMQException failed) {
            LOG.debug("could not count {}: {}", queue, failed.toString());
            return false;
        }
    }

    /**
     * The looks' session: one for every look, made again only after one failed or on a new connection (a session and a
     * browser made and closed at every look sent the broker ten packets a queue, a browse alone sends five).
     */
    private org.apache.activemq.artemis.api.core.client.ClientSession lookSession(Connection watched) throws JMSException {
        if (lookSession == null || lookSessionOn != watched) {
            closeLookSession();
            lookSession = (org.apache.activemq.artemis.jms.client.ActiveMQSession) watched.createSession(false,
                    jakarta.jms.Session.AUTO_ACKNOWLEDGE);
            lookSessionOn = watched;
        }
        return lookSession.getCoreSession();
    }

    private void closeLookSession() {
        if (lookSession != null) {
            try {
                lookSession.close();
            } catch (JMSException | RuntimeException e) {
                LOG.debug("closing the broker watch's look session", e);
            }
        }
        lookSession = null;
        lookSessionOn = null;
    }

    /** A queued message's arrival when it carries no stamp at all. */
    private static final long UNSTAMPED = -1;

    private static long arrivalOf(org.apache.activemq.artemis.api.core.client.ClientMessage message) {
        Object ingress = message.getObjectProperty(org.apache.activemq.artemis.api.core.Message.HDR_INGRESS_TIMESTAMP);
        long arrived = ingress instanceof Number stamp ? stamp.longValue() : message.getTimestamp();
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
        // The factory (its server locator) first: that ends the client's reconnection, which a look making a session
        // waits for uninterruptibly while it holds the connection's monitor, where the connection's close would have
        // waited for good (a stop with the broker gone hung).
        if (factory instanceof AutoCloseable owned) {
            try {
                owned.close();
            } catch (Exception e) {
                LOG.debug("closing the broker watch's connection factory", e);
            }
        }
        closeQuietly(connection);
        connection = null;
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
