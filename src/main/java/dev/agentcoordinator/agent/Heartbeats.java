package dev.agentcoordinator.agent;

import jakarta.jms.Connection;
import jakarta.jms.ConnectionFactory;
import jakarta.jms.DeliveryMode;
import jakarta.jms.Destination;
import jakarta.jms.JMSException;
import jakarta.jms.MessageProducer;
import jakarta.jms.Session;
import jakarta.jms.TextMessage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
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
 */
final class Heartbeats implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Heartbeats.class);
    static final String BODY = "{\"status\":\"running\"}";

    /** Stops the heartbeats of one request; closing it twice is harmless. */
    interface Beat extends AutoCloseable {
        @Override
        void close();
    }

    private static final Beat NONE = () -> { };

    private final ConnectionFactory connectionFactory;
    private final String agentName;
    private final long intervalMillis;
    private final ScheduledExecutorService timer;
    // used on the timer thread only
    private Connection connection;
    private Session session;
    private MessageProducer producer;

    /** Heartbeats every {@code interval}; null sends none. */
    Heartbeats(ConnectionFactory connectionFactory, String agentName, Duration interval) {
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

    /** Starts the heartbeats of the request being handled; the first leaves one interval from now. */
    Beat beatFor(Destination replyTo, String correlationId) {
        if (timer == null) {
            return NONE;
        }
        ScheduledFuture<?> beating = timer.scheduleAtFixedRate(() -> send(replyTo, correlationId),
                intervalMillis, intervalMillis, TimeUnit.MILLISECONDS);
        return () -> beating.cancel(false);
    }

    private void send(Destination replyTo, String correlationId) {
        try {
            if (connection == null) {
                Connection opened = connectionFactory.createConnection();
                session = opened.createSession(false, Session.AUTO_ACKNOWLEDGE);
                producer = session.createProducer(null);
                // a heartbeat lost with the broker is harmless: the next one, or the reply, follows
                producer.setDeliveryMode(DeliveryMode.NON_PERSISTENT);
                connection = opened;
            }
            TextMessage heartbeat = session.createTextMessage(BODY);
            heartbeat.setJMSCorrelationID(correlationId);
            producer.send(replyTo, heartbeat);
        } catch (JMSException | RuntimeException e) {
            LOG.warn("agent {}: heartbeat for {} not sent, trying again at the next one: {}", agentName, correlationId, e.toString());
            closeConnection();
        }
    }

    private void closeConnection() {
        Connection current = connection;
        connection = null;
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
