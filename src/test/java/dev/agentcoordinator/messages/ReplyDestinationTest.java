package dev.agentcoordinator.messages;

import org.apache.activemq.artemis.jms.client.ActiveMQDestination;
import org.apache.activemq.artemis.jms.client.ActiveMQQueue;
import org.apache.activemq.artemis.jms.client.ActiveMQTopic;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Where the response to an agent message goes: the JMSReplyTo of the message, as each protocol's client sets it. */
class ReplyDestinationTest {

    @Test
    void aQueueAndAStompReplyToWithoutPrefixNameTheQueue() throws Exception {
        assertThat(MessageRoutes.queueName(new ActiveMQQueue("replies.architect"))).isEqualTo("replies.architect");
        // a STOMP reply-to without "queue://" arrives as an address without a routing type
        assertThat(MessageRoutes.queueName(ActiveMQDestination.fromPrefixedName("replies.architect"))).isEqualTo("replies.architect");
        assertThat(MessageRoutes.queueName(null)).isNull();
    }

    @Test
    void aTopicIsRefusedNamingIt() {
        assertThatThrownBy(() -> MessageRoutes.queueName(new ActiveMQTopic("news")))
                .isInstanceOf(InvalidAgentMessageException.class)
                .hasMessageContaining("JMSReplyTo of an agent message must be a queue");
    }

    @Test
    void aResponsePostgreSqlCannotStoreIsStoredAsAnError() {
        org.apache.camel.Exchange exchange = new org.apache.camel.support.DefaultExchange(new org.apache.camel.impl.DefaultCamelContext());
        exchange.getMessage().setBody("{\"answer\":\"a\\u0000b\"}");
        AgentMessageCodec.readResponse(exchange);
        assertThat(exchange.getMessage().getHeader("messageResponse", String.class)).contains("\"status\":\"error\"", "U+0000");
        exchange.getMessage().setBody("{\"answer\":42}");
        AgentMessageCodec.readResponse(exchange);
        assertThat(exchange.getMessage().getHeader("messageResponse", String.class)).isEqualTo("{\"answer\":42}");
    }

    /** Sent as a BytesMessage (STOMP with content-length) in Latin-1: refused, not read with U+FFFD in place of the é. */
    @Test
    void aMessageOrResponseWhoseBytesAreNotUtf8IsRefusedNamingTheByte() {
        byte[] latin1 = "{\"from\":\"a\",\"to\":\"b\",\"type\":\"caf\u00e9\"}".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
        org.apache.camel.Exchange exchange = new org.apache.camel.support.DefaultExchange(new org.apache.camel.impl.DefaultCamelContext());
        exchange.getMessage().setBody(latin1);
        assertThatThrownBy(() -> AgentMessageCodec.accept(exchange.getMessage(), null, null))
                .isInstanceOf(InvalidAgentMessageException.class)
                .hasMessage("agent message is not UTF-8 text: byte 0xe9 at offset 32");

        exchange.getMessage().setBody(latin1);
        AgentMessageCodec.readResponse(exchange);
        assertThat(exchange.getMessage().getHeader("messageResponse", String.class))
                .contains("\"status\":\"error\"", "the recipient's response is not UTF-8 text: byte 0xe9 at offset 32");
    }
}
