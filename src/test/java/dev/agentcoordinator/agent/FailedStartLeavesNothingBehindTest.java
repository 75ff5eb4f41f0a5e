package dev.agentcoordinator.agent;

import dev.agentcoordinator.infra.OversizedBodyInterceptor;
import jakarta.jms.Connection;
import jakarta.jms.JMSException;
import org.apache.activemq.artemis.jms.client.ActiveMQConnectionFactory;
import org.apache.activemq.artemis.junit.EmbeddedActiveMQExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * A start() that fails half-way leaves nothing behind: not the size bound's interceptor on the connection factory, not
 * a consumer of the queues it opened (one with a consumer window holds requests that nobody handles), not the use of
 * the builder's messenger. Only a JMSException or RuntimeException was cleaned up: an Error (a class of the client's
 * missing, as a factory's connection throws it) left the first consumers connected, the interceptor on and the messenger
 * open.
 */
class FailedStartLeavesNothingBehindTest {

    @RegisterExtension
    static final EmbeddedActiveMQExtension BROKER = new EmbeddedActiveMQExtension(51);
    @RegisterExtension
    final AgentTestClients clients = new AgentTestClients(BROKER, "failedstart");

    @Test
    void aStartWhoseSecondConsumerFailsWithAnErrorLeavesNoConsumerInterceptorOrMessengerBehind() throws Exception {
        FailingConnectionFactory factory = clients.closeAfterTest(new FailingConnectionFactory(BROKER.getVmURL()));
        AgentService.Builder builder = AgentService.builder(factory, clients.agent()).concurrency(2)
                .handle("echo", request -> AgentReply.ok(Map.of("echo", true)));
        builder.messenger().tell("listener", "BEFORE_THE_START", Map.of());
        factory.failAtConnection = factory.connections + 2;   // the second consumer's

        assertThatThrownBy(builder::start).isInstanceOf(NoClassDefFoundError.class);

        assertThat(interceptorsOn(factory)).as("size-bound interceptors left on the factory").isZero();
        await().atMost(30, TimeUnit.SECONDS).pollInterval(50, TimeUnit.MILLISECONDS)
                .untilAsserted(() -> assertThat(BROKER.locateQueue(AgentService.queueName(clients.agent())).getConsumerCount())
                        .as("consumers the failed start left on its queue").isZero());
        assertThatThrownBy(() -> builder.messenger().tell("listener", "AFTER_THE_FAILED_START", Map.of()))
                .as("the messenger, which no running service holds").isInstanceOf(IllegalStateException.class)
                .hasMessage("messenger of " + clients.agent() + " is closed");

        // the next start runs as the first would have
        clients.start(builder);
        String request = clients.coordinator().send(clients.agent(), "echo", Map.of());
        assertThat(clients.coordinator().awaitReply(request).at("/output/echo").asBoolean()).isTrue();
        assertThat(interceptorsOn(factory)).as("the running service's interceptor").isEqualTo(1);
    }

    /** The size-bound interceptors on the factory's locator (its list names each interceptor's class, once per install). */
    private static long interceptorsOn(ActiveMQConnectionFactory factory) {
        String list = factory.getServerLocator().getIncomingInterceptorList();
        return list == null ? 0 : Arrays.stream(list.split(",")).filter(OversizedBodyInterceptor.class.getName()::equals).count();
    }

    /**
     * An Artemis factory with its default consumer window (a consumer takes requests before it is asked for them) whose
     * connection number {@code failAtConnection} fails with an Error, as one missing a class of the client would.
     */
    private static final class FailingConnectionFactory extends ActiveMQConnectionFactory {
        volatile int connections;
        volatile int failAtConnection = -1;

        FailingConnectionFactory(String url) {
            super(url);
        }

        @Override
        public synchronized Connection createConnection() throws JMSException {
            if (++connections == failAtConnection) {
                throw new NoClassDefFoundError("a class of the connection's (missing, as the test makes it)");
            }
            return super.createConnection();
        }
    }
}
