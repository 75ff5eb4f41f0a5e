package dev.agentcoordinator.agent;

import jakarta.jms.Connection;
import jakarta.jms.ConnectionFactory;
import jakarta.jms.DeliveryMode;
import jakarta.jms.Destination;
import jakarta.jms.JMSException;
import jakarta.jms.Message;
import jakarta.jms.MessageProducer;
import jakarta.jms.Session;
import jakarta.jms.TemporaryQueue;
import jakarta.jms.TextMessage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * While a handler works on a step request, sends {@code {"status": "running"}} for that attempt to its
 * reply queue every interval (docs/agent-protocol.md, "Heartbeats"): the coordinator then moves the
 * attempt's deadline to the step's timeout from that moment. The heartbeats leave on a connection of
 * their own, outside the request's transaction (which would hold them until the reply), from one
 * timer thread that alone uses the session.
 * <p>
 * Each heartbeat names a temporary queue of that connection as its JMSReplyTo. When the attempt is no
 * longer in flight (it timed out, its execution was cancelled), the coordinator answers there with
 * {@code {"status": "stop", "reason": …}}: the handler's thread is then interrupted, and its reply, which the
 * coordinator would ignore, is not sent.
 */
final class Heartbeats implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Heartbeats.class);
    /** The request the handler on this thread works on, while it has heartbeats: where its progress goes. */
    private static final ThreadLocal<Working> CURRENT = new ThreadLocal<>();

    /** The heartbeats of one request: closed (twice is harmless) when its handler returns, on its thread. */
    interface Beat extends AutoCloseable {
        @Override
        void close();

        /** Why the coordinator told the agent to stop this attempt (or the worker gave it up); null when neither did. */
        String stopReason();

        /**
         * Stops the handler from outside (its worker lost the broker): no more heartbeats, the handler's thread
         * interrupted while it runs. False when this request has no heartbeats to stop (the caller interrupts).
         */
        boolean stop(String reason);

        /**
         * Whether the coordinator's stop asked for the handler's reply all the same ({@code "reply_wanted": true}): a
         * cancel cut the attempt off, and its step's compensation waits to learn whether the work was done.
         */
        default boolean replyWanted() {
            return false;
        }

        /**
         * The latest progress the handler reported (JSON text), or null: an error reply carries it, so that the step's
         * retry resumes from it (a last heartbeat, on another connection, could be read after the reply and dropped).
         */
        default String progressJson() {
            return null;
        }
    }

    private static final Beat NONE = new Beat() {
        @Override
        public void close() {
        }

        @Override
        public String stopReason() {
            return null;
        }

        @Override
        public boolean stop(String reason) {
            return false;
        }
    };

    private final ConnectionFactory connectionFactory;
    private final String agentName;
    private final long intervalMillis;
    private final ScheduledExecutorService timer;
    /**
     * The requests being handled, by correlation id: where a stop finds its handlers' threads. One correlation id may be
     * in several handlers at once (a request and its re-send, taken by two consumers): a stop is for each of them.
     */
    private final Map<String, java.util.Set<Working>> working = new ConcurrentHashMap<>();
    // used on the timer thread only
    private Connection connection;
    private Session session;
    private MessageProducer producer;
    private TemporaryQueue stops;
    /** Guards the stop answers' queue: an answer longer than it comes unread, as a BytesMessage, and is no stop. */
    private final MessageSizeBound sizeBound;

    /** Heartbeats every {@code interval}; null sends none. */
    Heartbeats(ConnectionFactory connectionFactory, String agentName, Duration interval, MessageSizeBound sizeBound) {
        this.sizeBound = sizeBound;
        this.connectionFactory = connectionFactory;
        this.agentName = agentName;
        this.intervalMillis = interval == null ? 0 : interval.toMillis();
        this.timer = interval == null ? null : timer(agentName);
    }

    private static ScheduledExecutorService timer(String agentName) {
        ScheduledThreadPoolExecutor timer = new ScheduledThreadPoolExecutor(1, runnable -> {
            Thread thread = new Thread(runnable, "agent-" + agentName + "-heartbeats");
            thread.setDaemon(true);
            return thread;
        });
        timer.setRemoveOnCancelPolicy(true);   // most requests end before their first heartbeat is due
        return timer;
    }

    /** The beat of work without heartbeats (an agent message's handler, or none configured): stop() is the caller's interrupt. */
    static Beat none() {
        return NONE;
    }

    /**
     * Starts the heartbeats of the request being handled; the first leaves one interval from now, or at once for a
     * request delivered again (its agent died holding it): its attempt may be over (timed out, cancelled), and the stop
     * that answers a heartbeat then ends the work within milliseconds (docs/agent-protocol.md, "send one heartbeat with
     * a reply-to first"); one still in flight has its deadline moved, which it may be close to.
     */
    Beat beatFor(Destination replyTo, String correlationId, boolean deliveredAgain) {
        if (timer == null) {
            return NONE;
        }
        Working work = new Working(correlationId, Thread.currentThread(), replyTo);
        working.compute(correlationId, (id, handlers) -> {   // atomic with close()'s removal of the last one
            java.util.Set<Working> all = handlers == null ? ConcurrentHashMap.newKeySet() : handlers;
            all.add(work);
            return all;
        });
        CURRENT.set(work);
        // fixed delay, not rate: after the timer thread was stuck (a send waiting for the broker), one heartbeat
        // follows, not every one missed at once
        work.beating = timer.scheduleWithFixedDelay(work::beat,
                deliveredAgain ? 0 : intervalMillis, intervalMillis, TimeUnit.MILLISECONDS);
        synchronized (work) {
            if (work.stopReason != null) {   // the first heartbeat's stop came before its schedule was kept: none more
                work.beating.cancel(false);
            }
        }
        return work;
    }

    /** {@link AgentProgress#report}: the next heartbeat of the calling thread's request carries it. */
    static void reportProgress(Object progress) {
        Working work = CURRENT.get();
        if (work != null) {
            work.progressJson = AgentMessages.progressJson(progress);   // a report Jackson cannot write fails here, in the handler
        }
    }

    /** One request being handled: its heartbeats, and the thread a stop interrupts while the handler runs. */
    private final class Working implements Beat {
        private final String correlationId;
        private final Thread handler;
        private volatile ScheduledFuture<?> beating;
        private volatile String progressJson;
        private final Destination replyTo;
        // guarded by this: an interrupt lands only while the handler runs, never on the worker's JMS calls after it
        private boolean done;
        private String stopReason;
        private boolean replyWanted;

        Working(String correlationId, Thread handler, Destination replyTo) {
            this.correlationId = correlationId;
            this.handler = handler;
            this.replyTo = replyTo;
        }

        /** One heartbeat, on the timer thread. */
        void beat() {
            send(replyTo, correlationId, progressJson);
        }

        @Override
        public String progressJson() {
            return progressJson;
        }

        @Override
        public boolean stop(String reason) {
            return stop(reason, false);
        }

        synchronized boolean stop(String reason, boolean wantsReply) {
            if (done || stopReason != null) {
                return true;
            }
            stopReason = reason;
            replyWanted = wantsReply;
            if (beating != null) {
                beating.cancel(false);   // a heartbeat would move the deadline of an attempt nobody finishes
            }
            handler.interrupt();
            return true;
        }

        @Override
        public void close() {
            beating.cancel(false);
            working.computeIfPresent(correlationId, (id, handlers) -> handlers.remove(this) && handlers.isEmpty() ? null : handlers);
            CURRENT.remove();
            synchronized (this) {
                if (!done && stopReason != null) {
                    Thread.interrupted();   // ours, set by stop(): the worker goes on to commit the request
                }
                done = true;
            }
        }

        @Override
        public synchronized String stopReason() {
            return stopReason;
        }

        @Override
        public synchronized boolean replyWanted() {
            return replyWanted;
        }
    }

    /** An answer of the coordinator to a heartbeat, on the temporary queue: a stop interrupts its handler. */
    private void onAnswer(Message message) {
        try {
            String body = message instanceof TextMessage text ? text.getText() : null;
            String reason = AgentMessages.stopReason(body);
            if (reason == null) {
                LOG.debug("agent {}: answer to a heartbeat ignored, not a stop: {}", agentName, body);
                return;
            }
            java.util.Set<Working> handlers = working.get(message.getJMSCorrelationID());
            if (handlers == null || handlers.isEmpty()) {
                LOG.debug("agent {}: stop for {} arrived after its handler returned: {}", agentName, message.getJMSCorrelationID(), reason);
                return;
            }
            LOG.info("agent {}: told to stop {}: {}", agentName, message.getJMSCorrelationID(), reason);
            boolean wantsReply = AgentMessages.stopWantsReply(body);
            for (Working work : List.copyOf(handlers)) {
                work.stop(reason, wantsReply);
            }
        } catch (JMSException | RuntimeException e) {
            LOG.warn("agent {}: unreadable answer to a heartbeat: {}", agentName, e.toString());
        }
    }

    private boolean send(Destination replyTo, String correlationId, String progressJson) {
        // a connection the broker dropped since the last heartbeat (it restarted) fails the send: tried once more on a
        // new one, or this heartbeat were lost, and the attempt heard of one interval late
        boolean reused = connection != null;
        if (trySend(replyTo, correlationId, progressJson, !reused)) {
            return true;
        }
        return reused && trySend(replyTo, correlationId, progressJson, true);
    }

    private boolean trySend(Destination replyTo, String correlationId, String progressJson, boolean lastTry) {
        try {
            if (connection == null) {
                Connection opened = connectionFactory.createConnection();
                connection = opened;
                session = opened.createSession(false, Session.AUTO_ACKNOWLEDGE);
                producer = session.createProducer(null);
                // a heartbeat lost with the broker is harmless: the next one, or the reply, follows
                producer.setDeliveryMode(DeliveryMode.NON_PERSISTENT);
                // a session of its own: a session that delivers to a listener is not used for anything else
                Session answers = opened.createSession(false, Session.AUTO_ACKNOWLEDGE);
                stops = answers.createTemporaryQueue();
                sizeBound.guard(stops.getQueueName());
                answers.createConsumer(stops).setMessageListener(this::onAnswer);
                opened.start();
            }
            TextMessage heartbeat = session.createTextMessage(AgentMessages.heartbeat(progressJson));
            heartbeat.setJMSCorrelationID(correlationId);
            heartbeat.setJMSReplyTo(stops);
            producer.send(replyTo, heartbeat);
            return true;
        } catch (JMSException | RuntimeException e) {
            if (lastTry) {
                LOG.warn("agent {}: heartbeat for {} not sent, trying again at the next one: {}", agentName, correlationId, e.toString());
            } else {
                LOG.debug("agent {}: heartbeat connection failed, connecting again: {}", agentName, e.toString());
            }
            closeConnection();
            return false;
        }
    }

    private void closeConnection() {
        Connection current = connection;
        connection = null;
        if (stops != null) {
            try {
                sizeBound.unguard(stops.getQueueName());
            } catch (JMSException unnamed) {
                LOG.debug("agent {}: the stop answers' queue has no name: {}", agentName, unnamed.toString());
            }
        }
        if (current != null) {
            try {
                current.close();
            } catch (JMSException | RuntimeException e) {
                LOG.debug("agent {}: closing the heartbeat connection failed: {}", agentName, e.toString());
            }
        }
    }

    @Override
    public void close() {
        if (timer == null) {
            return;
        }
        timer.shutdownNow();
        try {
            timer.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        closeConnection();
    }
}
