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
 */
public final class BrokerOutageWatch implements org.apache.camel.Service {
    private static final Logger LOG = LoggerFactory.getLogger(BrokerOutageWatch.class);

    /** The client's longest retry interval (Messaging's maxRetryInterval): by then every consumer reconnected too. */
    static final long CONSUMERS_RECONNECTED_MS = 5_000;

    private final Connection connection;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(runnable -> {
        Thread thread = new Thread(runnable, "coordinator-broker-watch");
        thread.setDaemon(true);
        return thread;
    });
    private ScheduledFuture<?> reachableAgain;

    private BrokerOutageWatch(ConnectionFactory factory, ReplyBacklog backlog, long reconnectedAfterMs) throws JMSException {
        connection = factory.createConnection();
        try {
            if (!(connection instanceof ActiveMQConnection artemis)) {
                throw new IllegalArgumentException("not an Artemis connection factory: " + factory.getClass().getName());
            }
            artemis.setFailoverListener(event -> onEvent(event, backlog, reconnectedAfterMs));
            connection.start();
        } catch (JMSException | RuntimeException e) {
            connection.close();
            timer.shutdownNow();
            throw e;
        }
    }

    /** Watches the broker {@code factory} connects to (a plain Artemis factory, with reconnection). */
    public static BrokerOutageWatch start(ConnectionFactory factory, ReplyBacklog backlog) throws JMSException {
        return new BrokerOutageWatch(factory, backlog, CONSUMERS_RECONNECTED_MS);
    }

    static BrokerOutageWatch start(ConnectionFactory factory, ReplyBacklog backlog, long reconnectedAfterMs) throws JMSException {
        return new BrokerOutageWatch(factory, backlog, reconnectedAfterMs);
    }

    private synchronized void onEvent(FailoverEventType event, ReplyBacklog backlog, long reconnectedAfterMs) {
        switch (event) {
            case FAILURE_DETECTED -> {
                if (reachableAgain != null) {
                    reachableAgain.cancel(false);
                    reachableAgain = null;
                }
                backlog.brokerUnreachable();
                LOG.warn("the broker cannot be reached: attempt and execution timeouts wait until it answers again");
            }
            case FAILOVER_COMPLETED -> {
                LOG.warn("the broker answers again: timeouts resume once the reply consumers have reconnected too");
                if (!timer.isShutdown()) {
                    reachableAgain = timer.schedule(backlog::brokerReachable, reconnectedAfterMs, TimeUnit.MILLISECONDS);
                }
            }
            default -> LOG.warn("the broker could not be reached again ({}): timeouts stay on hold", event);
        }
    }

    /** Watching from its creation on: nothing to start. */
    @Override
    public void start() {
    }

    /** Stopped with the Camel context it was added to, before the broker stops. */
    @Override
    public void stop() {
        timer.shutdownNow();
        try {
            connection.close();
        } catch (JMSException e) {
            LOG.debug("closing the broker watch's connection", e);
        }
    }

    @Override
    public void close() {
        stop();
    }
}
