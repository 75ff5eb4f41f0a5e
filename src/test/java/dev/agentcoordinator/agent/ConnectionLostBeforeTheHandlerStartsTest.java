package dev.agentcoordinator.agent;

import dev.agentcoordinator.engine.CapturedLog;
import jakarta.jms.Connection;
import jakarta.jms.ExceptionListener;
import jakarta.jms.JMSException;
import jakarta.jms.Message;
import jakarta.jms.MessageConsumer;
import jakarta.jms.Session;
import org.apache.activemq.artemis.api.core.ActiveMQNotConnectedException;
import org.apache.activemq.artemis.jms.client.ActiveMQConnection;
import org.apache.activemq.artemis.jms.client.ActiveMQConnectionFactory;
import org.apache.activemq.artemis.junit.EmbeddedActiveMQExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A connection lost after the worker received a request and before its handler started: the client's notice of the
 * loss found no handler to stop, so the handler ran to its end, its reply could not leave, and the request, delivered
 * again, was handled a second time. The handler is now not started, as one at work would be stopped.
 */
class ConnectionLostBeforeTheHandlerStartsTest {

    @RegisterExtension
    static final EmbeddedActiveMQExtension BROKER = new EmbeddedActiveMQExtension(53);
    @RegisterExtension
    final AgentTestClients clients = new AgentTestClients(BROKER, "lostbeforehandler");

    @Test
    void aRequestWhoseConnectionIsLostBeforeItsHandlerStartsIsHandledOnlyOnceDeliveredAgain() throws Exception {
        LossAfterReceiveFactory factory = clients.closeAfterTest(new LossAfterReceiveFactory(BROKER.getVmURL()));
        AtomicInteger runs = new AtomicInteger();
        try (CapturedLog log = CapturedLog.of(RequestWorker.class.getName())) {
            clients.start(AgentService.builder(factory, clients.agent())
                    .handle("count", request -> AgentReply.ok(Map.of("runs", runs.incrementAndGet()))));
            String request = clients.coordinator().send(clients.agent(), "count", Map.of());

            // the consumer reconnects after its backoff (1 s) and takes the request again
            await().atMost(60, TimeUnit.SECONDS).pollInterval(20, TimeUnit.MILLISECONDS).until(() -> runs.get() > 0);
            assertThat(factory.dropped).as("the connection dropped under the first delivery").isTrue();
            assertThat(clients.coordinator().awaitReply(request).at("/output/runs").asInt())
                    .as("the handler's runs: none for the delivery whose connection was lost").isEqualTo(1);
            assertThat(runs).hasValue(1);
            assertThat(log.lines()).anySatisfy(line -> assertThat(line)
                    .contains("not starting the handler, the connection to the broker was lost before the handler started"));
        }
    }

    /** The same for a message from another agent: its handler, registered in flight as a request's, is not started either. */
    @Test
    void anAgentMessageWhoseConnectionIsLostBeforeItsHandlerStartsIsHandledOnlyOnceDeliveredAgain() throws Exception {
        LossAfterReceiveFactory factory = clients.closeAfterTest(new LossAfterReceiveFactory(BROKER.getVmURL()));
        AtomicInteger runs = new AtomicInteger();
        try (CapturedLog log = CapturedLog.of(RequestWorker.class.getName())) {
            clients.start(AgentService.builder(factory, clients.agent())
                    .onMessage("COUNT", message -> Map.of("runs", runs.incrementAndGet())));
            String question = clients.coordinator().sendText(clients.agent(),
                    AgentMessageWire.outgoing("m-1", "asker", clients.agent(), "COUNT", Map.of(), true, null),
                    message -> {
                        try {
                            message.setStringProperty(AgentMessageWire.KIND_PROPERTY, AgentMessageWire.KIND_AGENT_MESSAGE);
                        } catch (JMSException e) {
                            throw new IllegalStateException(e);
                        }
                    });

            // the consumer reconnects after its backoff (1 s) and takes the message again
            await().atMost(60, TimeUnit.SECONDS).pollInterval(20, TimeUnit.MILLISECONDS).until(() -> runs.get() > 0);
            assertThat(factory.dropped).as("the connection dropped under the first delivery").isTrue();
            assertThat(clients.coordinator().awaitReply(question).at("/payload/runs").asInt())
                    .as("the handler's runs: none for the delivery whose connection was lost").isEqualTo(1);
            assertThat(runs).hasValue(1);
            assertThat(log.lines()).anySatisfy(line -> assertThat(line)
                    .contains("not starting the handler, the connection to the broker was lost before the handler started:"
                            + " the agent message will be delivered again"));
        }
    }

    /**
     * An agent factory (consumerWindowSize=0) whose connections are not Artemis's own, as a pool's are: the first request
     * of an agent queue a consumer receives has its connection fail under it, and receive returns it once the worker's
     * exception listener has been told of the loss, before the worker gets to start the handler.
     */
    private static final class LossAfterReceiveFactory extends ActiveMQConnectionFactory {
        final AtomicBoolean dropped = new AtomicBoolean();

        LossAfterReceiveFactory(String url) {
            super(url);
            setConsumerWindowSize(0);
        }

        @Override
        public Connection createConnection() throws JMSException {
            ActiveMQConnection real = (ActiveMQConnection) super.createConnection();
            return wrap(Connection.class, real, real, new CountDownLatch(1));
        }

        @SuppressWarnings("unchecked")
        private <T> T wrap(Class<T> type, T real, ActiveMQConnection connection, CountDownLatch lossTold) {
            InvocationHandler handler = (proxy, method, args) -> {
                if (method.getName().equals("setExceptionListener") && args[0] instanceof ExceptionListener listener) {
                    args = new Object[] {(ExceptionListener) failure -> {
                        listener.onException(failure);
                        lossTold.countDown();
                    }};
                }
                Object result;
                try {
                    result = method.invoke(real, args);
                } catch (InvocationTargetException e) {
                    throw e.getCause();
                }
                if (result instanceof Session session && method.getName().equals("createSession")) {
                    return wrap(Session.class, session, connection, lossTold);
                }
                if (result instanceof MessageConsumer consumer && method.getName().equals("createConsumer")) {
                    return wrap(MessageConsumer.class, consumer, connection, lossTold);
                }
                if (result instanceof Message message && method.getName().startsWith("receive")
                        && String.valueOf(message.getJMSDestination()).contains("agent.") && dropped.compareAndSet(false, true)) {
                    connection.getSessionFactory().getConnection()
                            .fail(new ActiveMQNotConnectedException("dropped by the test after the receive"));
                    assertThat(lossTold.await(30, TimeUnit.SECONDS)).as("the worker told of the loss").isTrue();
                }
                return result;
            };
            return (T) Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[] {type}, handler);
        }
    }
}
