package dev.agentcoordinator.agent;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import jakarta.jms.Connection;
import jakarta.jms.ConnectionFactory;
import jakarta.jms.MessageProducer;
import jakarta.jms.Session;
import jakarta.jms.TextMessage;
import org.apache.activemq.artemis.junit.EmbeddedActiveMQExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** The agent SDK at its edges (large integers, a close with work in flight, chained questions, empty messages, progress before a failure), against a real embedded broker. */
class AgentSdkEdgeCasesTest {

    @RegisterExtension
    static final EmbeddedActiveMQExtension BROKER = new EmbeddedActiveMQExtension(42);
    @RegisterExtension
    final AgentTestClients clients = new AgentTestClients(BROKER, "edge");

    private static final ObjectMapper JSON = new ObjectMapper();

    private final ConnectionFactory connectionFactory = clients.connectionFactory();
    private final StepRequestClient coordinator = clients.coordinator();
    private final String agent = clients.agent();

    /** inputLong reads a JSON integer through a double: an id above 2^53 comes back as another number. */
    @Test
    void inputLongKeepsLargeIntegersExact() throws Exception {
        AgentRequest request = AgentMessages.parseRequest(
                "{\"action\":\"a\",\"input\":{\"order_id\":12345678901234567,\"as_text\":\"12345678901234567\"}}");
        assertThat(request.inputLong("order_id", 0)).isEqualTo(12345678901234567L);
        assertThat(request.inputLong("as_text", 0)).isEqualTo(12345678901234567L);
    }

    /**
     * close() promises to let in-flight requests finish. A handler that leaves its thread interrupted (a library's
     * cancelled future, its own watchdog) still gets its reply out while the service runs
     * (AgentServiceTest#aHandlerThatLeavesItsThreadInterruptedStillReplies...), but not while it closes: the interrupt is
     * kept, the reply's send or commit fails, the request is rolled back, and another instance does the work again.
     */
    /**
     * A request whose {@code message_kind} is not text (an AMQP or core client can set it as bytes): reading it threw
     * MessageFormatException after the receive, before any handler, which the worker took for a broken connection: the
     * request rolled back, the consumer reconnected after its backoff (1 s doubling) and received it again, up to the
     * broker's delivery limit, never answered, while the requests behind it waited. Not marked an agent message, it is a
     * step request.
     */
    @Test
    void aRequestWhoseMessageKindIsNotTextIsAnsweredAsAStepRequest() throws Exception {
        clients.start(AgentService.builder(connectionFactory, agent).handle("echo", request -> AgentReply.ok(Map.of("echoed", true))));

        String odd = coordinator.sendText(agent, StepRequestClient.requestBody(agent, "echo", Map.of()), message ->
                ((org.apache.activemq.artemis.jms.client.ActiveMQMessage) message).getCoreMessage()
                        .putBytesProperty(AgentMessageWire.KIND_PROPERTY, "agent_message".getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        String behind = coordinator.send(agent, "echo", Map.of());

        assertThat(coordinator.awaitReply(odd).at("/output/echoed").asBoolean()).as("the request with a bytes message_kind").isTrue();
        assertThat(coordinator.awaitReply(behind).at("/output/echoed").asBoolean()).as("the request behind it").isTrue();
    }

    @Test
    void aHandlerThatLeavesItsThreadInterruptedWhileTheServiceClosesStillReplies() throws Exception {
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AgentService service = AgentService.builder(connectionFactory, agent).shutdownTimeout(Duration.ofSeconds(20))
                .handle("slow", request -> {
                    started.countDown();
                    release.await(20, TimeUnit.SECONDS);
                    Thread.currentThread().interrupt();   // left behind by something the handler called
                    return AgentReply.ok(Map.of("done", true));
                }).start();
        clients.closeAfterTest(service);
        String inFlight = coordinator.send(agent, "slow", Map.of());
        assertThat(started.await(10, TimeUnit.SECONDS)).isTrue();

        Thread closer = new Thread(service::close, "test-closer");
        closer.start();
        await().atMost(5, TimeUnit.SECONDS).until(() -> !service.isRunning());
        release.countDown();
        closer.join(20_000);

        assertThat(coordinator.awaitReply(inFlight).at("/output/done").asBoolean()).isTrue();
        assertThat(BROKER.getMessageCount(AgentService.queueName(agent))).as("nothing left for redelivery").isZero();
    }

    /**
     * A stage chained on an ask() future runs on the messenger's JMS listener thread (the one that completes it): a
     * stage that waits for a second ask() blocks the only thread that could deliver that second response, so it waits
     * out the second question's whole bound (its timeout + 5 s) and then fails as "timed out", although the response
     * came at once.
     */
    @Test
    void aStageChainedOnAQuestionMayWaitForAnotherQuestion() throws Exception {
        clients.closeAfterTest(fakeCoordinatorAnsweringEveryQuestion());
        AgentMessenger messenger = AgentMessenger.connect(connectionFactory, agent);
        clients.closeAfterTest(messenger);

        CompletableFuture<Integer> chained = messenger.ask("other", "FIRST", Map.of("n", 1), Duration.ofSeconds(2))
                .thenApply(first -> messenger.ask("other", "SECOND", Map.of("n", first.path("n").asInt() + 1), Duration.ofSeconds(2))
                        .join().path("n").asInt());

        assertThat(chained.get(5, TimeUnit.SECONDS)).isEqualTo(2);
    }

    /**
     * An agent message whose text body is null (a JMS TextMessage without text) throws IllegalArgumentException out of
     * Jackson, which is not a MalformedRequestException: the worker rolls back, reconnects with backoff (1 s, 2 s, 4 s, ...)
     * and takes it again, up to the broker's delivery limit, and the requests behind it wait. A step request without
     * text is answered at once ("request body is empty").
     */
    @Test
    void anAgentMessageWithoutTextDoesNotHoldUpTheRequestsBehindIt() throws Exception {
        AgentService service = AgentService.builder(connectionFactory, agent)
                .handleOutput("ping", request -> Map.of("pong", true))
                .onMessage("Q", message -> Map.of()).start();
        clients.closeAfterTest(service);
        try (Connection connection = connectionFactory.createConnection()) {
            Session session = connection.createSession(false, Session.AUTO_ACKNOWLEDGE);
            TextMessage empty = session.createTextMessage();   // no text
            empty.setStringProperty("message_kind", "agent_message");
            empty.setJMSReplyTo(session.createQueue("review.message-responses." + agent));
            session.createProducer(session.createQueue(AgentService.queueName(agent))).send(empty);
        }
        String ping = coordinator.send(agent, "ping", Map.of());
        assertThat(coordinator.awaitReply(ping).at("/output/pong").asBoolean()).isTrue();   // within 10 s
    }

    /**
     * docs/agent-protocol.md: the coordinator keeps the latest progress and sends it to the step's later attempts "when
     * this attempt times out or fails"; the SDK sends a report only with the next heartbeat. A handler that reports
     * progress and then fails before that heartbeat is due loses the report: the retry starts over.
     */
    @Test
    void progressReportedBeforeAFailureReachesTheCoordinator() throws Exception {
        AgentService service = AgentService.builder(connectionFactory, agent).heartbeatEvery(Duration.ofSeconds(5))
                .handle("batch", request -> {
                    AgentProgress.report(Map.of("pages_done", 40));
                    throw new IllegalStateException("upstream went away at page 41");
                }).start();
        clients.closeAfterTest(service);
        String id = coordinator.send(agent, "batch", Map.of());
        JsonNode reply = coordinator.awaitReply(id);
        assertThat(reply.path("status").asText()).isEqualTo("error");
        // in the error reply itself: a last heartbeat, on another connection, could be read after the reply and dropped
        assertThat(reply.at("/progress/pages_done").asInt()).isEqualTo(40);
    }

    /** A response without status (a recipient of its own) is kept as it came: ask() gave its missing "payload". */
    @Test
    void aResponseWithoutStatusIsAnsweredWhole() throws Exception {
        clients.closeAfterTest(fakeCoordinatorAnsweringEveryQuestion(false));
        AgentMessenger messenger = AgentMessenger.connect(connectionFactory, agent);
        clients.closeAfterTest(messenger);

        JsonNode answer = messenger.ask("other", "PRIORITY_QUERY", Map.of("priority", 5), Duration.ofSeconds(2)).get(5, TimeUnit.SECONDS);
        assertThat(answer.path("priority").asInt()).isEqualTo(5);
    }

    private AutoCloseable fakeCoordinatorAnsweringEveryQuestion() throws Exception {
        return fakeCoordinatorAnsweringEveryQuestion(true);
    }

    /**
     * Plays the coordinator's message routes: answers every question on agent.messages at once, echoing its payload (as
     * {@code {"status": "ok", "payload": …}}, or without status, the payload itself as the response).
     */
    private AutoCloseable fakeCoordinatorAnsweringEveryQuestion(boolean withStatus) throws Exception {
        Connection connection = connectionFactory.createConnection();
        Session session = connection.createSession(false, Session.AUTO_ACKNOWLEDGE);
        MessageProducer producer = session.createProducer(null);
        session.createConsumer(session.createQueue("agent.messages")).setMessageListener(message -> {
            try {
                JsonNode question = JSON.readTree(((TextMessage) message).getText());
                if (message.getJMSReplyTo() == null) {
                    return;
                }
                ObjectNode answer = JSON.createObjectNode();
                answer.put("message_id", question.path("message_id").asText());
                answer.put("status", "responded");
                answer.put("from", question.path("to").asText());
                answer.put("type", question.path("type").asText());
                if (withStatus) {
                    answer.putObject("response").put("status", "ok").set("payload", question.path("payload"));
                } else {
                    answer.set("response", question.path("payload"));
                }
                TextMessage reply = session.createTextMessage(JSON.writeValueAsString(answer));
                reply.setJMSCorrelationID(message.getJMSCorrelationID());
                producer.send(message.getJMSReplyTo(), reply);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        connection.start();
        return connection;
    }
}
