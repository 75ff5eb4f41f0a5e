package dev.agentcoordinator.ops;

import dev.agentcoordinator.infra.Messaging;
import jakarta.jms.Connection;
import jakarta.jms.ConnectionFactory;
import org.apache.camel.health.HealthCheckResultBuilder;
import org.apache.camel.impl.health.AbstractHealthCheck;

import java.util.Map;

/**
 * DOWN when a fresh connection to the broker (with the coordinator's credentials, no reconnection
 * attempts) cannot be opened within the health timeout. The coordinator's own pooled connections
 * reconnect forever, so they cannot tell an outage themselves.
 */
public final class BrokerHealthCheck extends AbstractHealthCheck {

    private final ConnectionFactory probeFactory;
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
            return null;
        });
        if (problem == null && knownUnreachable.getAsBoolean()) {
            builder.message("broker answers, but the coordinator's own connections have not failed over to it yet"
                    + " (the API refuses sends with 503 until they have)").down();
        } else if (problem == null) {
            builder.up();
        } else {
            builder.message("broker unreachable at " + where + ": " + problem).down();
        }
    }
}
