package dev.agentcoordinator.agent;

import dev.agentcoordinator.engine.CapturedLog;
import jakarta.jms.Connection;
import jakarta.jms.JMSException;
import jakarta.jms.Message;
import jakarta.jms.MessageConsumer;
import jakarta.jms.Session;
import org.apache.activemq.artemis.jms.client.ActiveMQConnectionFactory;
import org.apache.activemq.artemis.junit.EmbeddedActiveMQExtension;
import org.apache.logging.log4j.Level;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * An Error thrown by the client under a consumer's receive (out of memory while it decodes a large text body, a class
 * missing) ended the worker's thread with its connection open: the request delivered to it was held, neither handled
 * nor given to another consumer, until the service's close. The worker now closes its connection (the request goes
 * back to the queue), logs an ERROR naming the queue, and reconnects after its backoff.
 */
class ErrorFromTheClientReleasesTheRequestTest {

    @RegisterExtension
    static final EmbeddedActiveMQExtension BROKER = new EmbeddedActiveMQExtension(52);
    @RegisterExtension
    final AgentTestClients clients = new AgentTestClients(BROKER, "receiveerror");

    @Test
    void aRequestWhoseReceiveThrowsAnErrorGoesBackToTheQueueForAnotherConsumer() throws Exception {
        ErrorInReceiveFactory factory = clients.closeAfterTest(new ErrorInReceiveFactory(BROKER.getVmURL(), Integer.MAX_VALUE));
        clients.start(AgentService.builder(factory, clients.agent())
                .handle("echo", request -> AgentReply.ok(Map.of("echo", true))));
        String request = clients.coordinator().send(clients.agent(), "echo", Map.of());
        await().atMost(30, TimeUnit.SECONDS).pollInterval(20, TimeUnit.MILLISECONDS).until(() -> factory.thrown.get() > 0);

        try (Connection other = clients.connectionFactory().createConnection()) {
            Session session = other.createSession(false, Session.AUTO_ACKNOWLEDGE);
            MessageConsumer consumer = session.createConsumer(session.createQueue(AgentService.queueName(clients.agent())));
            other.start();
            Message taken = consumer.receive(TimeUnit.SECONDS.toMillis(20));

            assertThat(taken).as("the request, taken by another consumer within 20 s").isNotNull();
            assertThat(taken.getJMSCorrelationID()).isEqualTo(request);
        }
    }

    @Test
    void theConsumerReconnectsAfterAnErrorFromItsReceiveAndAnswersTheRequest() throws Exception {
        ErrorInReceiveFactory factory = clients.closeAfterTest(new ErrorInReceiveFactory(BROKER.getVmURL(), 1));
        try (CapturedLog log = CapturedLog.of(RequestWorker.class.getName())) {
            clients.start(AgentService.builder(factory, clients.agent())
                    .handle("echo", request -> AgentReply.ok(Map.of("echo", true))));
            String request = clients.coordinator().send(clients.agent(), "echo", Map.of());

            assertThat(clients.coordinator().awaitReply(request).at("/output/echo").asBoolean()).isTrue();
            assertThat(factory.thrown).hasValue(1);
            assertThat(log.atLeast(Level.ERROR)).anySatisfy(line -> assertThat(line)
                    .contains("consumer on " + AgentService.queueName(clients.agent()) + " failed with java.lang.OutOfMemoryError")
                    .contains("goes back to the queue"));
        }
    }

    /**
     * An Artemis agent factory (consumerWindowSize=0) whose consumers throw an OutOfMemoryError from receive once a
     * request of an agent queue has been delivered to them, as the client's decoding of its body would, {@code errors}
     * times in all.
     */
    private static final class ErrorInReceiveFactory extends ActiveMQConnectionFactory {
        final AtomicInteger thrown = new AtomicInteger();
        private final int errors;

        ErrorInReceiveFactory(String url, int errors) {
            super(url);
            setConsumerWindowSize(0);
            this.errors = errors;
        }

        @Override
        public Connection createConnection() throws JMSException {
            return wrap(Connection.class, super.createConnection());
        }

        @SuppressWarnings("unchecked")
        private <T> T wrap(Class<T> type, T real) {
            InvocationHandler handler = (proxy, method, args) -> {
                Object result;
                try {
                    result = method.invoke(real, args);
                } catch (InvocationTargetException e) {
                    throw e.getCause();
                }
                if (result instanceof Session session && method.getName().equals("createSession")) {
                    return wrap(Session.class, session);
                }
                if (result instanceof MessageConsumer consumer && method.getName().equals("createConsumer")) {
                    return wrap(MessageConsumer.class, consumer);
                }
                if (result instanceof Message message && method.getName().startsWith("receive")
                        && String.valueOf(message.getJMSDestination()).contains("agent.") && thrown.get() < errors) {
                    thrown.incrementAndGet();
                    throw new OutOfMemoryError("Java heap space (thrown by the test as the client decodes the request)");
                }
                return result;
            };
            return (T) Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[] {type}, handler);
        }
    }
}
