package dev.agentcoordinator.agent;

import jakarta.jms.JMSException;
import org.apache.activemq.artemis.jms.client.ActiveMQConnectionFactory;
import org.apache.activemq.artemis.junit.EmbeddedActiveMQExtension;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * What one test of the agent SDK works with on its class's embedded broker: an agent connection factory
 * ({@link AgentService#artemisConnectionFactory}), an agent name of its own, a {@link StepRequestClient} playing the
 * coordinator, and the services and clients the test started, closed after it, the latest first (a messenger before the
 * fake coordinator it asks, a service before the pool it runs on). Register it on an instance field, made with each
 * test's instance (after the class's broker started):
 * <pre>{@code
 * @RegisterExtension
 * static final EmbeddedActiveMQExtension BROKER = new EmbeddedActiveMQExtension(41);
 * @RegisterExtension
 * final AgentTestClients clients = new AgentTestClients(BROKER, "test");
 * }</pre>
 */
final class AgentTestClients implements AfterEachCallback {

    private final ActiveMQConnectionFactory connectionFactory;
    private final String agent;
    private final StepRequestClient coordinator;
    private final List<AutoCloseable> toClose = new ArrayList<>();

    /** {@code agentPrefix}: what the test's agent name starts with, before a dash and 8 random characters. */
    AgentTestClients(EmbeddedActiveMQExtension broker, String agentPrefix) {
        connectionFactory = AgentService.artemisConnectionFactory(broker.getVmURL());
        agent = agentPrefix + "-" + UUID.randomUUID().toString().substring(0, 8);
        try {
            coordinator = new StepRequestClient(connectionFactory);
        } catch (JMSException e) {
            connectionFactory.close();
            throw new IllegalStateException("cannot connect to the test broker " + broker.getVmURL(), e);
        }
    }

    @Override
    public void afterEach(ExtensionContext context) throws Exception {
        // each one closed even when another fails to: the first failure is the one reported
        Exception failure = null;
        for (int i = toClose.size() - 1; i >= 0; i--) {
            failure = closeKeepingFirstFailure(toClose.get(i), failure);
        }
        failure = closeKeepingFirstFailure(coordinator, failure);
        connectionFactory.close();
        if (failure != null) {
            throw failure;
        }
    }

    private static Exception closeKeepingFirstFailure(AutoCloseable closeable, Exception earlier) {
        try {
            closeable.close();
            return earlier;
        } catch (Exception e) {
            if (earlier == null) {
                return e;
            }
            earlier.addSuppressed(e);
            return earlier;
        }
    }

    /** This test's agent connection factory (consumerWindowSize=0). */
    ActiveMQConnectionFactory connectionFactory() {
        return connectionFactory;
    }

    /** This test's agent name. */
    String agent() {
        return agent;
    }

    /** Plays the coordinator: sends step requests, collects replies and heartbeats. */
    StepRequestClient coordinator() {
        return coordinator;
    }

    /** Starts the service, closed after the test. */
    AgentService start(AgentService.Builder builder) {
        return closeAfterTest(builder.start());
    }

    <T extends AutoCloseable> T closeAfterTest(T closeable) {
        toClose.add(closeable);
        return closeable;
    }
}
