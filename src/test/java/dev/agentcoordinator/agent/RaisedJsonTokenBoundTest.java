package dev.agentcoordinator.agent;

import com.fasterxml.jackson.databind.JsonNode;
import jakarta.jms.Connection;
import jakarta.jms.ConnectionFactory;
import jakarta.jms.Message;
import jakarta.jms.Session;
import org.apache.activemq.artemis.junit.EmbeddedActiveMQExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A step's request carries the outputs its input mappings name, each within the coordinator's bound
 * ({@code coordinator.input.max-json-tokens}), so a legal request can have more than the SDK's default 1,000,000 JSON
 * tokens: {@code AgentService.Builder.maxJsonTokens} raises what the service reads, and the refusal names it.
 */
class RaisedJsonTokenBoundTest {

    @RegisterExtension
    static final EmbeddedActiveMQExtension BROKER = new EmbeddedActiveMQExtension(43);
    @RegisterExtension
    final AgentTestClients clients = new AgentTestClients(BROKER, "bound");

    /** 1,500,000 zeros: with their brackets and the request's fields, about 1.5 million tokens (3 MB of text). */
    private static final Map<String, Object> TWO_OUTPUTS = Map.of("n", new int[1_500_000]);

    private final ConnectionFactory connectionFactory = clients.connectionFactory();
    private final StepRequestClient coordinator = clients.coordinator();
    private final String agent = clients.agent();

    private AgentService.Builder counting() {
        return AgentService.builder(connectionFactory, agent)
                .handleOutput("count", request -> Map.of("count", request.inputList("n").size()));
    }

    @Test
    void aRequestBeyondTheDefaultBoundIsHandledWithinARaisedOne() throws Exception {
        clients.start(counting().maxJsonTokens(2_000_000));

        JsonNode reply = coordinator.awaitReply(coordinator.send(agent, "count", TWO_OUTPUTS));

        assertThat(reply.path("status").asText()).as(reply.toString()).isEqualTo("ok");
        assertThat(reply.at("/output/count").asInt()).isEqualTo(1_500_000);
    }

    /** Its reply is written unbounded: the bound is on what the agent reads. */
    @Test
    void anOutputBeyondTheBoundIsSentWhole() throws Exception {
        clients.start(AgentService.builder(connectionFactory, agent).maxJsonTokens(2_000_000)
                .handleOutput("echo", request -> Map.of("n", request.inputList("n"))));

        JsonNode reply = coordinator.awaitReply(coordinator.send(agent, "echo", TWO_OUTPUTS));

        assertThat(reply.path("status").asText()).as(reply.path("error").asText()).isEqualTo("ok");
        assertThat(reply.at("/output/n").size()).isEqualTo(1_500_000);
    }

    @Test
    void aRequestBeyondTheDefaultBoundIsRefusedNamingTheOptionToRaise() throws Exception {
        clients.start(counting());

        JsonNode reply = coordinator.awaitReply(coordinator.send(agent, "count", TWO_OUTPUTS));

        assertThat(reply.path("status").asText()).isEqualTo("error");
        assertThat(reply.path("retryable").asBoolean(true)).isFalse();
        assertThat(reply.path("error").asText()).isEqualTo("malformed request on agent." + agent + ": request has more than"
                + " 1,000,000 JSON tokens (keys, values, brackets): at most 1,000,000 are read (AgentService.Builder.maxJsonTokens)");
    }

    @Test
    void aBoundTooSmallForAControlMessageIsRefused() {
        assertThatThrownBy(() -> counting().maxJsonTokens(999))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("AgentService.Builder.maxJsonTokens must be at least 1000, was 999");
    }

    /** The service's messenger, made by its builder before the bound was raised, reads a response within the raised bound. */
    @Test
    void theServicesMessengerReadsAResponseWithinTheRaisedBound() throws Exception {
        AgentService.Builder builder = counting();
        AgentMessenger messenger = builder.messenger();
        clients.start(builder.maxJsonTokens(2_000_000));

        CompletableFuture<com.fasterxml.jackson.databind.JsonNode> answer = messenger.ask("bound-answerer", "Q", Map.of());
        respondAsTheCoordinator("{\"status\":\"responded\",\"from\":\"bound-answerer\",\"response\":{\"status\":\"ok\","
                + "\"payload\":{\"n\":[" + "0,".repeat(1_499_999) + "0]}}}");

        assertThat(answer.get(10, TimeUnit.SECONDS).path("n").size()).isEqualTo(1_500_000);
    }

    @Test
    void aResponseBeyondTheDefaultBoundFailsTheAskNamingTheOptionToRaise() throws Exception {
        AgentService.Builder builder = counting();
        clients.start(builder);

        CompletableFuture<com.fasterxml.jackson.databind.JsonNode> answer = builder.messenger().ask("bound-answerer", "Q", Map.of());
        String messageId = respondAsTheCoordinator("{\"status\":\"responded\",\"from\":\"bound-answerer\",\"response\":"
                + "{\"status\":\"ok\",\"payload\":{\"n\":[" + "0,".repeat(1_499_999) + "0]}}}");

        assertThatThrownBy(() -> answer.get(10, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                .cause().isInstanceOf(AgentMessageException.class)
                .hasMessage("message " + messageId + ": the response has more than 1,000,000 JSON tokens (keys, values, brackets):"
                        + " at most 1,000,000 are read (AgentService.Builder.maxJsonTokens)");
    }

    /** Takes the question off agent.messages and answers it on its JMSReplyTo, as the coordinator does; returns its id. */
    private String respondAsTheCoordinator(String response) throws Exception {
        try (Connection connection = connectionFactory.createConnection()) {
            Session session = connection.createSession(false, Session.AUTO_ACKNOWLEDGE);
            connection.start();
            Message question = session.createConsumer(session.createQueue(AgentMessageWire.QUEUE)).receive(10_000);
            assertThat(question).as("a question on " + AgentMessageWire.QUEUE).isNotNull();
            jakarta.jms.TextMessage answer = session.createTextMessage(response);
            answer.setJMSCorrelationID(question.getJMSCorrelationID());
            session.createProducer(question.getJMSReplyTo()).send(answer);
            return question.getJMSCorrelationID();
        }
    }
}
