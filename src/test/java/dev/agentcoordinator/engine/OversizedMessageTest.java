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
}
