package dev.agentcoordinator.engine;

import com.fasterxml.jackson.databind.JsonNode;
import dev.agentcoordinator.CoordinatorApp;
import dev.agentcoordinator.DatabaseTemplate;
import dev.agentcoordinator.RunningCoordinator;
import dev.agentcoordinator.config.CoordinatorSettings;
import dev.agentcoordinator.infra.BrokerManagement;
import dev.agentcoordinator.infra.EmbeddedBroker;
import dev.agentcoordinator.infra.FreePort;
import dev.agentcoordinator.infra.Messaging;
import jakarta.jms.ConnectionFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * One agent's address full under address-full-policy BLOCK (its agent gone, its queue at max-size-bytes): the broker
 * grants no credits to send to it, and a send of the coordinator's own routes waits for them. That must not stall the
 * whole coordinator: executions whose steps go to other agents go on, the timeouts of the blocked steps' attempts fire,
 * and once the agent takes its queue again every blocked execution completes, each request delivered once.
 */
class ExecutionsWhileOneAgentsQueueBlocksSendsTest {
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    /** More executions to the blocked agent than the coordinator has event consumers (4) and reply consumers (4). */
    private static final int BLOCKED_EXECUTIONS = 6;
    private static final Duration LONG = Duration.ofSeconds(90);

    @TempDir
    Path folder;
    private EmbeddedBroker broker;
    private RunningCoordinator coordinator;
    private BrokerManagement management;
    private ScriptedAgents agents;
    private String api;
    private ConnectionFactory factory;

    @BeforeEach
    void startBrokerAndCoordinator() throws Exception {
        broker = new EmbeddedBroker(FreePort.on("127.0.0.1"), folder.resolve("broker"));
        String brokerUrl = broker.start();
        Path workflows = Files.createDirectories(folder.resolve("workflows"));
        // the first step's request goes to the blocked agent from an event consumer; the second's from a reply consumer
        Files.writeString(workflows.resolve("blocked_first.yaml"), """
                id: blocked_first
                name: Starts on the agent whose queue is full
                trigger: BLOCKED_FIRST
                config: { timeout_ms: 600000 }
                steps:
                  - id: call_blocked
                    agent: full-agent
                    action: work
                    config: { timeout_ms: 2000, retry_count: 100, retry_backoff_ms: 100 }
                """);
        Files.writeString(workflows.resolve("blocked_next.yaml"), """
                id: blocked_next
                name: Fans out to the agent whose queue is full
                trigger: BLOCKED_NEXT
                config: { timeout_ms: 600000 }
                steps:
                  - id: first
                    agent: free-agent
                    action: work
                  - id: call_blocked
                    agent: full-agent
                    action: work
                    depends_on: [first]
                    config: { timeout_ms: 2000, retry_count: 100, retry_backoff_ms: 100 }
                """);
        Files.writeString(workflows.resolve("free_chain.yaml"), """
                id: free_chain
                name: Runs on other agents only
                trigger: FREE_CHAIN
                config: { timeout_ms: 600000 }
                steps:
                  - id: one
                    agent: free-agent
                    action: work
                  - id: two
                    agent: other-agent
                    action: work
                    depends_on: [one]
                """);
        Files.writeString(workflows.resolve("unanswered.yaml"), """
                id: unanswered
                name: A step no agent answers, on an agent whose queue takes sends
                trigger: UNANSWERED
                config: { timeout_ms: 600000 }
                steps:
                  - id: silent
                    agent: silent-agent
                    action: work
                    config: { timeout_ms: 1000, retry_count: 0 }
                """);
        coordinator = CoordinatorApp.start(CoordinatorSettings.fromMap(Map.of(
                // a producer window smaller than any message: each send waits for credits the broker grants it then
                "broker.url", brokerUrl + "?producerWindowSize=64", "db.url", "", "db.embedded.port", "0",
                "http.port", "0", "data.dir", DatabaseTemplate.seeded(folder.resolve("data")).toString(),
                "health.timeout-ms", "1000", "workflows.dir", workflows.toString(), "demo-agents.enabled", "false",
                "supervisor.period-ms", "100")));
        api = coordinator.httpUrl();
        factory = Messaging.connectionFactory(brokerUrl, "", "");
        management = BrokerManagement.open(factory, 5000);
        agents = new ScriptedAgents(factory);
    }

    @AfterEach
    void stopThem() throws Exception {
        try (EmbeddedBroker stoppedLast = broker; RunningCoordinator stopped = coordinator; BrokerManagement closed = management;
             ScriptedAgents agentsClosed = agents) {
            // closed in reverse: agents, management, coordinator, then the broker
        }
    }

    @Test
    void otherAgentsExecutionsGoOnTimeoutsFireAndTheBlockedOnesCompleteOnceTheQueueTakesSends() throws Exception {
        agents.echo("free-agent", r -> Map.of("done", true)).echo("other-agent", r -> Map.of("done", true));
        fullUnderBlock("full-agent");

        List<String> blocked = new ArrayList<>();
        for (int i = 0; i < BLOCKED_EXECUTIONS; i++) {
            blocked.add(postEvent("BLOCKED_FIRST"));
            blocked.add(postEvent("BLOCKED_NEXT"));
        }
        // then the executions on the other agents, and one left unanswered
        List<String> free = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            free.add(postEvent("FREE_CHAIN"));
        }
        String unanswered = postEvent("UNANSWERED");

        for (String eventId : free) {
            await().atMost(LONG).pollInterval(Duration.ofMillis(200)).alias("an execution on the other agents")
                    .until(() -> "completed".equals(executionOf(eventId).path("status").asText()));
        }
        await().atMost(LONG).pollInterval(Duration.ofMillis(200)).alias("the unanswered step's timeout")
                .until(() -> "failed".equals(executionOf(unanswered).path("status").asText()));
        // the attempts whose requests the broker holds back time out, and their next attempts start
        for (String eventId : blocked) {
            await().atMost(LONG).pollInterval(Duration.ofMillis(200)).alias("the blocked step's attempts time out")
                    .until(() -> step(executionOf(eventId), "call_blocked").path("attempts").size() >= 2);
        }
        assertThat(agents.received("call_blocked")).isEmpty();

        // the agent comes back: it takes the filler off its queue, and the broker takes sends again
        agents.agent("full-agent", r -> r.request().has("filler") ? List.of() : List.of(ScriptedAgents.Reply.ok(Map.of("done", true))));
        for (String eventId : blocked) {
            await().atMost(LONG).pollInterval(Duration.ofMillis(200)).alias("a blocked execution, once its agent is back")
                    .until(() -> "completed".equals(executionOf(eventId).path("status").asText()));
        }
        List<String> delivered = agents.received("call_blocked").stream().map(ScriptedAgents.Received::correlationId).toList();
        assertThat(delivered).as("each request delivered once").doesNotHaveDuplicates();
    }

    /** The address blocks producers once it holds more than 1 KiB; a filler of 2 KiB fills it. */
    private void fullUnderBlock(String agent) throws Exception {
        assertThat(management.invoke("broker", "addAddressSettings", "agent." + agent,
                "{\"maxSizeBytes\": 1024, \"pageSizeBytes\": 1024, \"addressFullMessagePolicy\": \"BLOCK\"}"))
                .hasValueSatisfying(a -> assertThat(a.succeeded()).as(String.valueOf(a.result())).isTrue());
        try (jakarta.jms.Connection connection = factory.createConnection()) {
            jakarta.jms.Session session = connection.createSession(false, jakarta.jms.Session.AUTO_ACKNOWLEDGE);
            session.createProducer(session.createQueue("agent." + agent))
                    .send(session.createTextMessage("{\"filler\": \"" + "x".repeat(2048) + "\"}"));
        }
    }

    private String postEvent(String type) throws Exception {
        HttpResponse<String> accepted = HTTP.send(HttpRequest.newBuilder(URI.create(api + "/api/events"))
                .header("Content-Type", "application/json").timeout(Duration.ofSeconds(20))
                .POST(HttpRequest.BodyPublishers.ofString("{\"type\": \"" + type + "\", \"payload\": {}}")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(accepted.statusCode()).as(accepted.body()).isEqualTo(202);
        return Json.parse(accepted.body()).path("event_id").asText();
    }

    /** The execution the event started, as GET /api/executions/{id} shows it; an empty object until there is one. */
    private JsonNode executionOf(String eventId) throws Exception {
        String execution = Json.parse(get("/api/events/" + eventId)).path("execution_id").asText(null);
        return execution == null ? Json.object() : Json.parse(get("/api/executions/" + execution + "?outputs=false"));
    }

    private static JsonNode step(JsonNode execution, String stepId) {
        for (JsonNode step : execution.path("steps")) {
            if (stepId.equals(step.path("step_id").asText())) {
                return step;
            }
        }
        return Json.object();
    }

    private String get(String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(api + path)).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString()).body();
    }
}
