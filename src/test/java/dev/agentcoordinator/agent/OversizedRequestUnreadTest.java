package dev.agentcoordinator.agent;

import com.fasterxml.jackson.databind.JsonNode;
import jakarta.jms.Connection;
import jakarta.jms.Message;
import jakarta.jms.MessageConsumer;
import jakarta.jms.Session;
import jakarta.jms.TextMessage;
import org.apache.activemq.artemis.api.core.Interceptor;
import org.apache.activemq.artemis.core.client.impl.ClientLargeMessageImpl;
import org.apache.activemq.artemis.core.protocol.core.impl.wireformat.SessionReceiveLargeMessage;
import org.apache.activemq.artemis.jms.client.ActiveMQConnectionFactory;
import org.apache.activemq.artemis.junit.EmbeddedActiveMQExtension;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A request, agent message or response longer than the bytes an agent reads (AgentService.Builder.maxMessageBytes, 40 MiB
 * by default) is refused by the length the broker gives, before the Artemis JMS client decodes it: that client decoded a
 * TextMessage's text as it received it, so one message on agent.<name> took the agent's heap before any check. What
 * proves a body unread is the client's own message, as in the coordinator's OversizedBodyUnreadTest: a large message's
 * body is read into memory in one place (ClientLargeMessageImpl.checkBuffer, which sets CoreMessage's writableBuffer).
 */
class OversizedRequestUnreadTest {

    @RegisterExtension
    static final EmbeddedActiveMQExtension BROKER = new EmbeddedActiveMQExtension(44);
    @RegisterExtension
    final AgentTestClients clients = new AgentTestClients(BROKER, "oversized");

    private static final int LOWERED = 1024 * 1024;
    /** Over the lowered bound once the broker holds it in 2 bytes a character. */
    private static final int LONG_FOR_LOWERED = 600_000;

    private final ActiveMQConnectionFactory connectionFactory = clients.connectionFactory();
    private final StepRequestClient coordinator = clients.coordinator();
    private final String agent = clients.agent();
    /** Every large message this factory's connections received with a body longer than the bound under test. */
    private final Queue<ClientLargeMessageImpl> received = new ConcurrentLinkedQueue<>();
    private volatile long boundUnderTest;
    private final Interceptor keepLarge = (packet, connection) -> {
        if (packet instanceof SessionReceiveLargeMessage large && large.getLargeMessage() instanceof ClientLargeMessageImpl message
                && large.getLargeMessageSize() > boundUnderTest) {
            received.add(message);
        }
        return true;
    };

    @BeforeEach
    void keepLargeMessages() {
        connectionFactory.getServerLocator().addIncomingInterceptor(keepLarge);
    }

    @Test
    void aRequestLongerThanTheDefaultBoundIsAnsweredWithANonRetryableErrorNamingTheOptionUnread() throws Exception {
        boundUnderTest = MessageSizeBound.DEFAULT_MAX_BYTES;
        AtomicInteger handled = new AtomicInteger();
        clients.start(AgentService.builder(connectionFactory, agent).handle("analyze", request -> {
            handled.incrementAndGet();
            return AgentReply.ok(Map.of());
        }));
        // 42 MB on the broker: past the 40 MiB read, and past the 20 million characters Jackson reads of a string
        String body = StepRequestClient.requestBody(agent, "analyze", Map.of("text", "x".repeat(21_000_000)));
        String correlationId = coordinator.sendText(agent, body, true);

        JsonNode reply = coordinator.awaitReply(correlationId);
        assertThat(reply.path("error").asText()).isEqualTo("malformed request on agent." + agent + ": request is " + brokerBytes(body)
                + " bytes long: more than the 41,943,040 bytes read (AgentService.Builder.maxMessageBytes)");
        assertThat(reply.path("status").asText()).isEqualTo("error");
        assertThat(reply.path("retryable").asBoolean(true)).as("retryable").isFalse();
        assertThat(handled).hasValue(0);
        assertNeverRead();
    }

    @Test
    void anAgentMessageLongerThanALoweredBoundIsAnsweredWithAnErrorUnread() throws Exception {
        boundUnderTest = LOWERED;
        AtomicInteger handled = new AtomicInteger();
        clients.start(AgentService.builder(connectionFactory, agent).maxMessageBytes(LOWERED).onMessage("Q", message -> {
            handled.incrementAndGet();
            return Map.of();
        }));
        String body = "{\"message_id\": \"m-1\", \"from\": \"asker\", \"to\": \"" + agent + "\", \"type\": \"Q\", \"requires_response\": true,"
                + " \"payload\": {\"text\": \"" + "x".repeat(LONG_FOR_LOWERED) + "\"}}";
        try (Connection connection = connectionFactory.createConnection()) {
            connection.start();
            Session session = connection.createSession(false, Session.AUTO_ACKNOWLEDGE);
            jakarta.jms.Queue answers = session.createTemporaryQueue();
            TextMessage message = session.createTextMessage(body);
            message.setStringProperty("message_kind", "agent_message");
            message.setJMSCorrelationID("m-1");
            message.setJMSReplyTo(answers);
            session.createProducer(session.createQueue(AgentService.queueName(agent))).send(message);
            Message answer = session.createConsumer(answers).receive(10_000);
            assertThat(answer).as("an answer within 10 s").isNotNull();
            assertThat(((TextMessage) answer).getText()).isEqualTo("{\"status\":\"error\",\"error\":\"malformed agent message on agent."
                    + agent + ": agent message is " + brokerBytes(body) + " bytes long: more than the 1,048,576 bytes read"
                    + " (AgentService.Builder.maxMessageBytes)\"}");
        }
        assertThat(handled).hasValue(0);
        assertNeverRead();
    }

    @Test
    void aResponseLongerThanAStandAloneMessengersBoundFailsItsQuestionUnread() throws Exception {
        boundUnderTest = LOWERED;
        AgentMessenger messenger = AgentMessenger.connect(connectionFactory, "asker", JsonTokenBound.DEFAULT_MAX_TOKENS, LOWERED);
        clients.closeAfterTest(messenger);
        try (Connection connection = connectionFactory.createConnection()) {
            connection.start();
            Session session = connection.createSession(false, Session.AUTO_ACKNOWLEDGE);
            MessageConsumer coordinatorInbox = session.createConsumer(session.createQueue(AgentMessageWire.QUEUE));
            CompletableFuture<JsonNode> asked = messenger.ask(agent, "Q", Map.of(), Duration.ofSeconds(30));
            Message question = coordinatorInbox.receive(10_000);
            assertThat(question).as("the question within 10 s").isNotNull();
            TextMessage response = session.createTextMessage("{\"status\": \"responded\", \"response\": {\"status\": \"ok\", \"payload\": {\"text\": \""
                    + "x".repeat(LONG_FOR_LOWERED) + "\"}}}");
            response.setJMSCorrelationID(question.getJMSCorrelationID());
            session.createProducer(question.getJMSReplyTo()).send(response);

            assertThatThrownBy(() -> asked.get(10, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                    .cause().isInstanceOf(AgentMessageException.class)
                    .hasMessage("message " + question.getJMSCorrelationID() + ": the response is " + brokerBytes(response.getText())
                            + " bytes long: more than the 1,048,576 bytes read (AgentMessenger.connect's maxMessageBytes)");
        }
        assertNeverRead();
    }

    /** A service on a pool of Artemis connections (the pool the coordinator uses) guards its queue on the pooled factory. */
    @Test
    void aRequestLongerThanTheBoundIsRefusedUnreadThroughAPooledFactory() throws Exception {
        boundUnderTest = LOWERED;
        org.messaginghub.pooled.jms.JmsPoolConnectionFactory pool = new org.messaginghub.pooled.jms.JmsPoolConnectionFactory();
        pool.setConnectionFactory(connectionFactory);
        clients.closeAfterTest(pool::stop);
        clients.start(AgentService.builder(pool, agent).maxMessageBytes(LOWERED).handle("analyze", request -> AgentReply.ok(Map.of())));
        String body = StepRequestClient.requestBody(agent, "analyze", Map.of("text", "x".repeat(LONG_FOR_LOWERED)));

        JsonNode reply = coordinator.awaitReply(coordinator.sendText(agent, body, true));
        assertThat(reply.path("error").asText()).isEqualTo("malformed request on agent." + agent + ": request is " + brokerBytes(body)
                + " bytes long: more than the 1,048,576 bytes read (AgentService.Builder.maxMessageBytes)");
        assertNeverRead();
    }

    @Test
    void aBoundBelow64KibIsRefused() {
        assertThatThrownBy(() -> AgentService.builder(connectionFactory, agent).maxMessageBytes(1_000))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("AgentService.Builder.maxMessageBytes must be at least 65,536, was 1,000");
    }

    /** A TextMessage's body as the broker holds it: a flag and a length (5 bytes), then 2 bytes a character. */
    private static String brokerBytes(String text) {
        return String.format(Locale.ROOT, "%,d", 5 + 2L * text.length());
    }

    /** The message arrived large, and its body was never read into memory (ClientLargeMessageImpl.checkBuffer not run). */
    private void assertNeverRead() throws Exception {
        assertThat(received).hasSize(1);
        java.lang.reflect.Field buffer = org.apache.activemq.artemis.core.message.impl.CoreMessage.class.getDeclaredField("writableBuffer");
        buffer.setAccessible(true);
        assertThat(buffer.get(received.peek())).as("the body read into memory").isNull();
    }
}
