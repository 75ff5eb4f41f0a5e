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

    public BrokerHealthCheck(String brokerUrl, String user, String password, int timeoutMs) {
        super("coordinator", "broker");
        this.probeFactory = Messaging.boundedConnectionFactory(brokerUrl, user, password, timeoutMs);
        this.bounded = new BoundedCheck("broker", timeoutMs);
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
        if (problem == null) {
            builder.up();
        } else {
            builder.message("broker unreachable: " + problem).down();
        }
    }
}
