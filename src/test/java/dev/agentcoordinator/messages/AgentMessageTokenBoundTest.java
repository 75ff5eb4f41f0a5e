package dev.agentcoordinator.messages;

import dev.agentcoordinator.engine.Json;
import org.apache.camel.Exchange;
import org.apache.camel.impl.DefaultCamelContext;
import org.apache.camel.support.DefaultExchange;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * An agent message on agent.messages and a recipient's response are read within coordinator.input.max-json-tokens, as
 * events and step replies are: parsed unbounded, a few MB of zeros from an agent built a tree of hundreds of MB.
 */
class AgentMessageTokenBoundTest {
    /** Two million zeros and their commas: 4 MB of text, more than the million tokens read by default. */
    private static final String MANY_ZEROS = "[" + "0,".repeat(2_000_000) + "0]";

    @Test
    void anAgentMessageOfMoreTokensThanAreReadIsRejectedNamingTheBoundAndItsSetting() {
        Exchange exchange = new DefaultExchange(new DefaultCamelContext());
        exchange.getMessage().setBody("{\"from\":\"a\",\"to\":\"b\",\"type\":\"Q\",\"payload\":{\"n\":" + MANY_ZEROS + "}}");
        assertThatThrownBy(() -> AgentMessageCodec.accept(exchange.getMessage(), null, null))
                .isInstanceOf(InvalidAgentMessageException.class)
                .hasMessage("agent message has more than 1,000,000 JSON tokens (keys, values, brackets): at most 1,000,000 are read"
                        + " (coordinator.input.max-json-tokens)");
    }

    @Test
    void aResponseOfMoreTokensThanAreReadIsStoredAsAnErrorNamingTheBound() {
        Exchange exchange = new DefaultExchange(new DefaultCamelContext());
        exchange.getMessage().setBody("{\"status\":\"ok\",\"payload\":{\"n\":" + MANY_ZEROS + "}}");
        AgentMessageCodec.readResponse(exchange);
        assertThat(Json.parse(exchange.getMessage().getHeader("messageResponse", String.class)).path("error").asText())
                .isEqualTo("the recipient's response has more than 1,000,000 JSON tokens (keys, values, brackets): at most 1,000,000 are read"
                        + " (coordinator.input.max-json-tokens)");
    }
}
