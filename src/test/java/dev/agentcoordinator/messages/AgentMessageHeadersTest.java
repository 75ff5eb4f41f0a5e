package dev.agentcoordinator.messages;

import com.fasterxml.jackson.databind.JsonNode;
import dev.agentcoordinator.engine.Json;
import org.junit.jupiter.api.Test;

import static dev.agentcoordinator.engine.TestCoordinator.query;
import static dev.agentcoordinator.engine.TestCoordinator.shared;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The JMS headers of a message sent on agent.messages. A JMSCorrelationID or JMSReplyTo longer than
 * agent_messages.correlation_id / reply_to (varchar(255)) failed its INSERT ("value too long for type character
 * varying(255)"): redelivered ten times with an ERROR each, then moved to DLA; the sender heard nothing, where every
 * other bad field is answered {"status": "rejected", …} on its JMSReplyTo (docs/agent-protocol.md). A JMSReplyTo that
 * names a queue the coordinator or an agent reads is refused unanswered: the coordinator wrote its answers there.
 */
class AgentMessageHeadersTest {

    @Test
    void aCorrelationIdTooLongToStoreIsRejectedToTheSender() throws Exception {
        String replies = "test.replies." + java.util.UUID.randomUUID();
        String messageId = "long-cid-" + java.util.UUID.randomUUID().toString().substring(0, 8);
        try (jakarta.jms.Connection connection = shared().connectionFactory().createConnection()) {
            connection.start();
            jakarta.jms.Session session = connection.createSession(false, jakarta.jms.Session.AUTO_ACKNOWLEDGE);
            jakarta.jms.TextMessage question = session.createTextMessage("{\"message_id\":\"" + messageId + "\","
                    + "\"from\":\"g-asker\",\"to\":\"g-nobody\",\"type\":\"Q\",\"payload\":{},\"requires_response\":true,"
                    + "\"timeout_ms\":2000}");
            question.setJMSReplyTo(session.createQueue(replies));
            question.setJMSCorrelationID("c".repeat(300));
            session.createProducer(session.createQueue("agent.messages")).send(question);
            jakarta.jms.MessageConsumer consumer = session.createConsumer(session.createQueue(replies));

            jakarta.jms.Message answer = consumer.receive(5_000);
            assertThat(answer).as("an answer on the sender's JMSReplyTo within 5 s").isNotNull();
            JsonNode body = Json.parse(((jakarta.jms.TextMessage) answer).getText());
            assertThat(body.path("status").asText()).isEqualTo("rejected");
            assertThat(body.path("error").asText()).contains("JMSCorrelationID").contains("255");
            assertThat(query("SELECT id FROM agent_messages WHERE id = ?", messageId)).isEmpty();
        }
    }

    /**
     * A sender that names another agent's request queue as its JMSReplyTo: the rejection (and a response or a timeout
     * notice) was written there by the coordinator, past the broker's roles that keep the sender off that queue.
     */
    @Test
    void aReplyToAnotherAgentsQueueIsRefusedUnanswered() throws Exception {
        String victim = "agent.g-reply-victim";
        String control = "test.replies." + java.util.UUID.randomUUID();
        try (jakarta.jms.Connection connection = shared().connectionFactory().createConnection()) {
            connection.start();
            jakarta.jms.Session session = connection.createSession(false, jakarta.jms.Session.AUTO_ACKNOWLEDGE);
            jakarta.jms.MessageProducer producer = session.createProducer(session.createQueue("agent.messages"));
            // by its name, and by its fully qualified name (address::queue), which reaches the same queue
            for (String replyTo : java.util.List.of(victim, victim + "::" + victim, control)) {   // one consumer: the control's answer comes after
                jakarta.jms.TextMessage refused = session.createTextMessage("{\"from\":\"g-asker\",\"to\":\"Not Valid\",\"type\":\"Q\","
                        + "\"payload\":{},\"requires_response\":true}");
                refused.setJMSReplyTo(session.createQueue(replyTo));
                producer.send(refused);
            }
            jakarta.jms.Message controlAnswer = session.createConsumer(session.createQueue(control)).receive(10_000);
            assertThat(controlAnswer).as("the control message's rejection").isNotNull();
            try (jakarta.jms.QueueBrowser browser = session.createBrowser(session.createQueue(victim))) {
                assertThat(java.util.Collections.list(browser.getEnumeration())).as("written to another agent's queue").isEmpty();
            }
        }
    }

    @Test
    void aReplyToTooLongToStoreIsRefused() {
        org.apache.camel.Exchange exchange = new org.apache.camel.support.DefaultExchange(new org.apache.camel.impl.DefaultCamelContext());
        exchange.getMessage().setBody("{\"from\":\"a\",\"to\":\"b\",\"type\":\"Q\",\"requires_response\":true}");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> AgentMessageCodec.accept(exchange.getMessage(), "r".repeat(256), "m-1"))
                .isInstanceOf(InvalidAgentMessageException.class)
                .hasMessageContaining("JMSReplyTo");
    }
}
