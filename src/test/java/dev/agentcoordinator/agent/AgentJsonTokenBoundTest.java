package dev.agentcoordinator.agent;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * An agent reads at most 1,000,000 JSON tokens (keys, values, brackets) of one request, agent message or response,
 * the coordinator's own default bound: parsed unbounded, a body of a few MB of zeros built a tree of hundreds of MB in
 * the agent's heap, from whoever could write to its queue.
 */
class AgentJsonTokenBoundTest {
    /** Two million zeros and their commas: 4 MB of text, more than a million tokens. */
    private static final String MANY_ZEROS = "[" + "0,".repeat(2_000_000) + "0]";
    private static final String BOUND = "more than 1,000,000 JSON tokens (keys, values, brackets): at most 1,000,000 are read (AgentService.Builder.maxJsonTokens)";

    @Test
    void aRequestOfMoreTokensThanAreReadIsRefusedNamingTheBound() {
        assertThatThrownBy(() -> AgentMessages.parseRequest("{\"execution_id\":\"e\",\"step_id\":\"s\",\"action\":\"a\",\"attempt\":1,"
                + "\"input\":{\"n\":" + MANY_ZEROS + "}}"))
                .isInstanceOf(MalformedRequestException.class)
                .hasMessage("request has " + BOUND);
    }

    @Test
    void anAgentMessageOfMoreTokensThanAreReadIsRefusedNamingTheBound() {
        assertThatThrownBy(() -> AgentMessageWire.parse("{\"type\":\"Q\",\"from\":\"a\",\"to\":\"b\",\"payload\":{\"n\":" + MANY_ZEROS + "}}"))
                .isInstanceOf(MalformedRequestException.class)
                .hasMessage("agent message has " + BOUND);
    }

    @Test
    void aRequestWithinTheBoundIsRead() throws Exception {
        AgentRequest request = AgentMessages.parseRequest("{\"execution_id\":\"e\",\"step_id\":\"s\",\"action\":\"a\",\"attempt\":1,"
                + "\"input\":{\"n\":[" + "0,".repeat(900_000) + "0]}}");
        assertThat(request.action()).isEqualTo("a");
    }

    @Test
    void anAgentMessageBeyondTheDefaultIsReadWithinARaisedBound() throws Exception {
        AgentMessage message = AgentMessageWire.parse("{\"type\":\"Q\",\"from\":\"a\",\"to\":\"b\",\"payload\":{\"n\":" + MANY_ZEROS + "}}",
                new JsonTokenBound(3_000_000, JsonTokenBound.SERVICE_OPTION));
        assertThat(message.payloadJson().path("n").size()).isEqualTo(2_000_001);
    }
}
