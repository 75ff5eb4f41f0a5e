package dev.agentcoordinator.engine;

import jakarta.jms.Connection;
import jakarta.jms.Message;
import jakarta.jms.MessageProducer;
import jakarta.jms.QueueBrowser;
import jakarta.jms.Session;
import jakarta.jms.TextMessage;
import org.apache.activemq.artemis.api.core.Interceptor;
import org.apache.activemq.artemis.core.client.impl.ClientLargeMessageImpl;
import org.apache.activemq.artemis.core.protocol.core.impl.wireformat.SessionReceiveLargeMessage;
import org.apache.activemq.artemis.jms.client.ActiveMQConnectionFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.messaginghub.pooled.jms.JmsPoolConnectionFactory;

import java.time.Duration;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;

import static dev.agentcoordinator.engine.ScriptedAgents.Reply;
import static dev.agentcoordinator.engine.TestCoordinator.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * An event, a reply or an agent message whose body is longer than coordinator.input.max-message-bytes (40 MiB by default; 8 MiB
 * on the engine tests' coordinator, so that these bodies are 9 MB, not 42) is refused
 * by its length, which the broker gives before the body: the body is never read into the coordinator's heap. The
 * Artemis JMS client decoded a TextMessage's text as it received it, before any check: a 50 MB reply took a 512 MB heap
 * from 77 to 414 MB. What proves it unread is the client's own message: a large message's body is read into memory in
 * one place (ClientLargeMessageImpl.checkBuffer, which sets the writableBuffer of CoreMessage), and a TextMessage is read there on
 * receipt; a heap measurement would be at the mercy of the collector.
 */
class OversizedBodyUnreadTest {
    private static final String SETTING = "coordinator.input.max-message-bytes";
    /**
     * Over the test coordinator's bound once the broker holds it in 2 bytes a character (9 MB), under the 20 million characters
     * read: made when sent, not kept for the JVM's other tests.
     */
    private static final int LONG_TEXT = 4_500_000;
    /** The engine tests' coordinator's coordinator.input.max-message-bytes (TestCoordinator.settings). */
    static final int BOUND = 8 * 1024 * 1024;
    private static final String BOUND_READ = String.format(java.util.Locale.ROOT, " more than the %,d bytes read (", BOUND);
    private static final String REPLY = "{\"status\": \"ok\", \"output\": {\"a\": \"%s\"}}";
    private static final String EVENT = "{\"type\": \"F_OVERSIZED\", \"payload\": {\"a\": \"%s\"}}";

    private static ScriptedAgents agents;
    /** Every large message the coordinator's JMS client received for the events or the reply queue, as it received it. */
    private static final Queue<ClientLargeMessageImpl> RECEIVED = new ConcurrentLinkedQueue<>();
    private static final Interceptor KEEP_LARGE = (packet, connection) -> {
        if (packet instanceof SessionReceiveLargeMessage large && large.getLargeMessage() instanceof ClientLargeMessageImpl message
                && (large.getLargeMessageSize() > BOUND || message.getLongProperty(org.apache.activemq.artemis.api.core.Message.HDR_LARGE_BODY_SIZE) > BOUND)) {
            RECEIVED.add(message);
        }
        return true;
    };

    @BeforeAll
    static void agents() throws Exception {
        artemis().getServerLocator().addIncomingInterceptor(KEEP_LARGE);
        agents = new ScriptedAgents(shared().connectionFactory()).agent("f-oversized-agent",
                r -> List.of(new Reply(0, withLongText(REPLY), null)));
    }

    @AfterAll
    static void stop() throws Exception {
        agents.close();
        artemis().getServerLocator().removeIncomingInterceptor(KEEP_LARGE);
        RECEIVED.clear();
    }

    private static ActiveMQConnectionFactory artemis() {
        return (ActiveMQConnectionFactory) ((JmsPoolConnectionFactory) shared().connectionFactory()).getConnectionFactory();
    }

    @Test
    void aReplyOfMoreBytesThanAreReadFailsItsStepUnreadNamingTheBoundWithoutRetry() throws Exception {
        RECEIVED.clear();
        String eventId = sendEvent("F_OVERSIZED_REPLY", "{}");
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100))
                .until(() -> executionOf(eventId) != null && "failed".equals(executionStatus(executionOf(eventId))));
        Map<String, Object> step = stepRow(executionOf(eventId), "only");
        assertThat(step.get("error")).isEqualTo("agent reply is " + bytesOf(REPLY) + " bytes long:"
                + BOUND_READ + SETTING + ")");
        assertThat(step.get("attempt")).as("not retried").isEqualTo(1);
        assertThat(agents.received("only")).hasSize(1);
        assertNeverRead();
    }

    @Test
    void anEventOfMoreBytesThanAreReadIsDeadLetteredUnreadWithoutItsBodyNamingTheBound() throws Exception {
        RECEIVED.clear();
        String marker = "f-oversized-" + UUID.randomUUID();
        try (Connection connection = shared().connectionFactory().createConnection()) {
            Session session = connection.createSession(false, Session.AUTO_ACKNOWLEDGE);
            MessageProducer producer = session.createProducer(session.createQueue(Endpoints.EVENTS_QUEUE));
            TextMessage event = session.createTextMessage(withLongText(EVENT));
            event.setStringProperty("test_marker", marker);
            producer.send(event);
        }
        Message[] found = new Message[1];
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200)).until(() -> (found[0] = deadLetter(marker)) != null);
        assertThat(found[0].getStringProperty(EventRoutes.DEAD_LETTER_REASON)).isEqualTo("event body is " + bytesOf(EVENT) + " bytes long:"
                + BOUND_READ + SETTING + "); this dead letter does not carry it");
        assertThat(found[0]).isNotInstanceOf(TextMessage.class);
        assertNeverRead();
    }

    @Test
    void anAgentMessageOfMoreBytesThanAreReadIsRejectedUnreadNamingTheBound() throws Exception {
        RECEIVED.clear();
        String template = "{\"from\": \"f-oversized-asker\", \"to\": \"f-oversized-agent\", \"type\": \"Q\","
                + " \"requires_response\": true, \"payload\": {\"a\": \"%s\"}}";
        String answers = "test.replies." + UUID.randomUUID();
        try (Connection connection = shared().connectionFactory().createConnection()) {
            connection.start();
            Session session = connection.createSession(false, Session.AUTO_ACKNOWLEDGE);
            TextMessage question = session.createTextMessage(withLongText(template));
            question.setJMSReplyTo(session.createQueue(answers));
            session.createProducer(session.createQueue(dev.agentcoordinator.messages.MessageRoutes.INBOUND_QUEUE)).send(question);
            Message answer = session.createConsumer(session.createQueue(answers)).receive(60_000);
            assertThat(answer).as("an answer on the sender's JMSReplyTo within 60 s").isNotNull();
            com.fasterxml.jackson.databind.JsonNode body = Json.parse(((TextMessage) answer).getText());
            assertThat(body.path("status").asText()).isEqualTo("rejected");
            assertThat(body.path("error").asText()).isEqualTo("agent message is " + bytesOf(template)
                    + " bytes long:"
                + BOUND_READ + SETTING + ")");
        }
        assertNeverRead();
    }

    /**
     * A body the sender's client compressed (compressLargeMessage) reaches the coordinator in fewer bytes than the bound
     * (hex digits: about a quarter), and inflates past it: it is measured by the size the sender gives, _AMQ_LARGE_SIZE.
     */
    @Test
    void anEventCompressedUnderTheBoundThatInflatesPastItIsDeadLetteredUnread() throws Exception {
        RECEIVED.clear();
        String marker = "f-oversized-" + UUID.randomUUID();
        java.util.SplittableRandom random = new java.util.SplittableRandom(7);
        StringBuilder hex = new StringBuilder(LONG_TEXT);
        for (int i = 0; i < LONG_TEXT; i++) {
            hex.append(Character.forDigit(random.nextInt(16), 16));
        }
        String template = "{\"type\": \"F_OVERSIZED\", \"payload\": {\"a\": \"%s\"}}";
        try (ActiveMQConnectionFactory compressing = new ActiveMQConnectionFactory(shared().brokerUrl() + "?compressLargeMessage=true");
             Connection connection = compressing.createConnection()) {
            Session session = connection.createSession(false, Session.AUTO_ACKNOWLEDGE);
            TextMessage event = session.createTextMessage(template.replace("%s", hex));
            event.setStringProperty("test_marker", marker);
            session.createProducer(session.createQueue(Endpoints.EVENTS_QUEUE)).send(event);
        }
        Message[] found = new Message[1];
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200)).until(() -> (found[0] = deadLetter(marker)) != null);
        assertThat(found[0].getStringProperty(EventRoutes.DEAD_LETTER_REASON)).isEqualTo("event body is " + bytesOf(template)
                + " bytes long:"
                + BOUND_READ + SETTING + "); this dead letter does not carry it");
        assertNeverRead();
    }

    private static String withLongText(String template) {
        return template.replace("%s", "x".repeat(LONG_TEXT));
    }

    /** A TextMessage's body as the broker holds it: a flag and a length (5 bytes), then 2 bytes a character. */
    private static String bytesOf(String template) {
        return String.format(java.util.Locale.ROOT, "%,d", 5 + 2L * (template.length() - 2 + LONG_TEXT));
    }

    /** The message arrived large, and its body was never read into memory (ClientLargeMessageImpl.checkBuffer not run). */
    private static void assertNeverRead() throws Exception {
        assertThat(RECEIVED).hasSize(1);
        java.lang.reflect.Field buffer = org.apache.activemq.artemis.core.message.impl.CoreMessage.class.getDeclaredField("writableBuffer");
        buffer.setAccessible(true);
        assertThat(buffer.get(RECEIVED.peek())).as("the body read into memory").isNull();
    }

    private static Message deadLetter(String marker) throws Exception {
        try (Connection connection = shared().connectionFactory().createConnection()) {
            connection.start();
            Session session = connection.createSession(false, Session.AUTO_ACKNOWLEDGE);
            try (QueueBrowser browser = session.createBrowser(session.createQueue(Endpoints.DEAD_LETTER_QUEUE), "test_marker = '" + marker + "'")) {
                return (Message) Collections.list(browser.getEnumeration()).stream().findFirst().orElse(null);
            }
        }
    }
}
