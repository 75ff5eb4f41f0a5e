package dev.agentcoordinator.ops;

import dev.agentcoordinator.infra.Messaging;
import jakarta.jms.Connection;
import org.apache.camel.health.HealthCheckResultBuilder;
import org.apache.camel.impl.health.AbstractHealthCheck;

import java.util.Map;
import org.apache.activemq.artemis.api.core.client.ClientProducer;
import org.apache.activemq.artemis.api.core.client.ClientSession;
import org.apache.activemq.artemis.api.core.client.ClientSessionFactory;
import org.apache.activemq.artemis.core.client.impl.ClientProducerCredits;
import org.apache.activemq.artemis.core.client.impl.ClientProducerInternal;

/**
 * DOWN when a fresh connection to the broker (with the coordinator's credentials, no reconnection
 * attempts) cannot be opened within the health timeout. The coordinator's own pooled connections
 * reconnect forever, so they cannot tell an outage themselves.
 */
public final class BrokerHealthCheck extends AbstractHealthCheck {

    private final org.apache.activemq.artemis.jms.client.ActiveMQConnectionFactory probeFactory;
    private final long timeoutMs;
    /** Set by the last probe when the broker granted no credits to send to agent.events: what blocks, in words. */
    private volatile String blocked;
    private final BoundedCheck bounded;
    /** Whether the coordinator's own connections still count the broker as unreachable (BrokerOutageWatch). */
    private final java.util.function.BooleanSupplier knownUnreachable;
    /** The broker's URL, without credentials: for the message when it is down. */
    private final String where;

    public BrokerHealthCheck(String brokerUrl, String user, String password, int timeoutMs) {
        this(brokerUrl, user, password, timeoutMs, () -> false);
    }

    /**
     * {@code knownUnreachable}: while it says so, the API answers 503 to every call that sends to the broker, so
     * readiness stays DOWN too, even once a fresh connection can be opened (the coordinator's own connections and
     * consumers fail over a few seconds later).
     */
    public BrokerHealthCheck(String brokerUrl, String user, String password, int timeoutMs,
            java.util.function.BooleanSupplier knownUnreachable) {
        super("coordinator", "broker");
        this.probeFactory = Messaging.boundedConnectionFactory(brokerUrl, user, password, timeoutMs);
        this.bounded = new BoundedCheck("broker", timeoutMs);
        this.timeoutMs = timeoutMs;
        this.knownUnreachable = knownUnreachable;
        this.where = dev.agentcoordinator.config.Secrets.redactUrl(brokerUrl);
    }

    @Override
    public boolean isLiveness() {
        return false;
    }

    @Override
    protected void doCall(HealthCheckResultBuilder builder, Map<String, Object> options) {
        String problem = bounded.run(() -> {
            try (Connection connection = probeFactory.createConnection()) {
                connection.start();
            }
            blocked = creditsWithheld();
            return null;
        });
        if (problem == null && blocked != null) {
            builder.message("the broker at " + where + " blocks sends: " + blocked).down();
        } else if (problem == null && knownUnreachable.getAsBoolean()) {
            builder.message("broker answers, but the coordinator's own connections have not failed over to it yet"
                    + " (the API refuses sends with 503 until they have)").down();
        } else if (problem == null) {
            builder.up();
        } else {
            builder.message("broker unreachable at " + where + ": " + problem).down();
        }
    }

    /**
     * Null when the broker grants a producer on agent.events credits (it lets the coordinator's sends through), else why
     * not. A broker whose disk is past {@code max-disk-usage}, or whose address is full under {@code address-full-policy}
     * BLOCK, withholds them, and the Artemis client waits for them without end: the connection probe alone found such a
     * broker UP while every event the coordinator sent stood still. The credits are asked for without sending anything.
     */
    private String creditsWithheld() throws Exception {
        org.apache.activemq.artemis.api.core.client.ServerLocator locator = probeFactory.getServerLocator();
        if (locator.getProducerWindowSize() < 0) {
            return null;   // no producer flow control: the client never waits for credits
        }
        String address = dev.agentcoordinator.engine.Endpoints.EVENTS_QUEUE;
        try (ClientSessionFactory sessions = locator.createSessionFactory();
             ClientSession session = sessions.createSession(probeFactory.getUser(), probeFactory.getPassword(), false, true, true, false, 0)) {
            ClientProducer producer = session.createProducer(address);
            ClientProducerCredits credits = ((ClientProducerInternal) producer).getProducerCredits();
            // the broker answers the request for credits at once unless it holds producers back; half the bound, so that
            // the check still answers within it
            long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(timeoutMs / 2);
            while (credits.getBalance() <= 0) {
                if (System.nanoTime() - deadline > 0) {
                    return "it granted no credits to send to " + address + " within " + timeoutMs / 2 + " ms (its disk past"
                            + " max-disk-usage, or the address full under address-full-policy BLOCK; the client logs AMQ212054)";
                }
                Thread.sleep(10);
            }
            // credits in hand: taking one does not wait; a broker that refuses producers (an address blocked through its
            // control, a FAIL policy) answered with credits that fail when taken
            try {
                credits.acquireCredits(1);
            } catch (org.apache.activemq.artemis.api.core.ActiveMQException refused) {
                return "it refused credits to send to " + address + ": " + refused.getMessage();
            }
            return null;
        }
    }
}
