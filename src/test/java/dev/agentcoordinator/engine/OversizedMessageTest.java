package dev.agentcoordinator.engine;

import org.apache.camel.Exchange;
import org.apache.camel.impl.DefaultCamelContext;
import org.apache.camel.support.DefaultExchange;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * An event or an agent reply longer than {@link Json#MAX_MESSAGE_CHARS} is not parsed: five strings of 10 MB, each
 * under Jackson's bound on one string, built a tree that ran a 512 MB heap out of memory on every delivery.
 */
class OversizedMessageTest {
    private static final String OVERSIZED_PAYLOAD = "{\"type\": \"X\", \"payload\": {\"a\": \"" + "x".repeat(Json.MAX_MESSAGE_CHARS) + "\"}}";

    @Test
    void anEventLongerThanTheBoundIsRefusedWithItsLength() {
        assertThatThrownBy(() -> EventDecoder.parse(OVERSIZED_PAYLOAD))
                .isInstanceOf(InvalidEventException.class)
                .hasMessage("event is 20,000,035 characters long: at most 20,000,000 are read");
    }

    @Test
    void anAgentReplyLongerThanTheBoundIsReadAsAnErrorReplyNamingItsLength() {
        Exchange exchange = new DefaultExchange(new DefaultCamelContext());
        exchange.getMessage().setBody("{\"status\": \"ok\", \"output\": {\"a\": \"" + "x".repeat(Json.MAX_MESSAGE_CHARS) + "\"}}");
        ReplyRoutes.keepReplyText(exchange);
        String text = exchange.getProperty(ReplyRoutes.REPLY_TEXT, String.class);
        assertThat(Json.parse(text).path("status").asText()).isEqualTo("error");
        assertThat(Json.parse(text).path("error").asText()).isEqualTo("agent reply is 20,000,037 characters long: at most 20,000,000 are read");
    }

    @Test
    void anAgentReplyOfMoreTokensThanAreReadFailsItsStepNamingTheBoundWithoutRetry() {
        Exchange exchange = new DefaultExchange(new DefaultCamelContext());
        exchange.getMessage().setBody("{\"status\": \"ok\", \"output\": {\"n\": [" + "0,".repeat(2000) + "0]}}");
        ReplyRoutes.keepReplyText(exchange, 1000);
        com.fasterxml.jackson.databind.JsonNode reply = Json.parse(exchange.getProperty(ReplyRoutes.REPLY_TEXT, String.class));
        assertThat(reply.path("status").asText()).isEqualTo("error");
        assertThat(reply.path("error").asText()).isEqualTo("agent reply has more than 1,000 JSON tokens (keys, values, brackets):"
                + " at most 1,000 are read (coordinator.input.max-json-tokens)");
        assertThat(reply.path("retryable").asBoolean(true)).isFalse();
    }

    @Test
    void anAgentReplyWithinTheTokenBoundIsKeptAsItCame() {
        Exchange exchange = new DefaultExchange(new DefaultCamelContext());
        String text = "{\"status\": \"ok\", \"output\": {\"n\": [" + "0,".repeat(900) + "0]}}";
        exchange.getMessage().setBody(text);
        ReplyRoutes.keepReplyText(exchange, 1000);
        assertThat(exchange.getProperty(ReplyRoutes.REPLY_TEXT, String.class)).isSameAs(text);
    }

    @Test
    void anEventOfMoreTokensThanAreReadIsRefusedNamingTheBoundAndItsSetting() {
        assertThatThrownBy(() -> EventDecoder.parse("{\"type\": \"X\", \"payload\": {\"n\": [" + "0,".repeat(2000) + "0]}}", 1000))
                .isInstanceOf(InvalidEventException.class)
                .hasMessage("event has more than 1,000 JSON tokens (keys, values, brackets): at most 1,000 are read"
                        + " (coordinator.input.max-json-tokens)");
    }
}
