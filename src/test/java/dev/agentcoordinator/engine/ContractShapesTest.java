package dev.agentcoordinator.engine;

import com.fasterxml.jackson.databind.JsonNode;
import jakarta.jms.Connection;
import jakarta.jms.Message;
import jakarta.jms.MessageProducer;
import jakarta.jms.Queue;
import jakarta.jms.Session;
import jakarta.jms.TemporaryQueue;
import jakarta.jms.TextMessage;
import org.apache.activemq.artemis.api.core.RoutingType;
import org.apache.activemq.artemis.api.core.SimpleString;
import org.apache.activemq.artemis.api.core.client.ClientSession;
import org.apache.activemq.artemis.jms.client.ActiveMQConnectionFactory;
import org.apache.activemq.artemis.jms.client.ActiveMQSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;

import static dev.agentcoordinator.engine.ExecutionProbe.*;
import static dev.agentcoordinator.engine.TestCoordinator.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The shapes /work/shared/CONTRACT.md promises outside tests, pinned field by field and type by type: the step request
 * and its JMS headers, the queues, the outcome events' payloads, the state tables' columns and rows, and the
 * execution's HTTP view. One workflow (f_contract, a JSON definition) runs twice for all of them: once completed, once
 * failed by an agent's {@code "retryable": false} error.
 */
class ContractShapesTest {
    private static final String AGENT = "f-contract-agent";
    private static final String ISO_MICROS = "\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{6}Z";
    private static final List<Message> REQUESTS = new CopyOnWriteArrayList<>();
    private static Connection agent;
    private static String completed;
    private static String failed;
    private static String postedEventId;
    private static HttpResponse<String> posted;

    @BeforeAll
    static void runOneExecutionOfEachOutcome() throws Exception {
        agent = shared().connectionFactory().createConnection();
        Session session = agent.createSession(false, Session.AUTO_ACKNOWLEDGE);
        Session replies = agent.createSession(false, Session.AUTO_ACKNOWLEDGE);
        MessageProducer producer = replies.createProducer(null);
        session.createConsumer(session.createQueue("agent." + AGENT)).setMessageListener(request -> answer(request, replies, producer));
        agent.start();

        // one through agent.events, one through POST /api/events with an event_id of the sender's: both run at once
        String sentEventId = sendEvent("F_CONTRACT", "{\"candidate\": {\"email\": \"c@example.com\"}}");
        postedEventId = "contract-" + UUID.randomUUID();
        posted = post("/api/events", "{\"type\": \"F_CONTRACT\", \"event_id\": \"" + postedEventId
                + "\", \"payload\": {\"candidate\": {\"email\": \"f@example.com\"}, \"fail\": true}}");
        completed = awaitExecution(sentEventId, "completed");
        failed = awaitExecution(postedEventId, "failed");
    }

    private static void answer(Message request, Session session, MessageProducer producer) {
        try {
            REQUESTS.add(request);
            JsonNode body = Json.parse(((TextMessage) request).getText());
            String reply = switch (body.path("action").asText()) {
                case "analyze_transcript" -> body.path("input").path("fail").asBoolean()
                        ? "{\"status\": \"error\", \"error\": \"transcript not found\", \"retryable\": false}"
                        : "{\"status\": \"ok\", \"output\": {\"analysis\": {\"score\": 71}, \"feedback\": \"structure answers\"}}";
                default -> "{\"status\": \"ok\", \"output\": {\"notified\": true}}";
            };
            TextMessage message = session.createTextMessage(reply);
            message.setJMSCorrelationID(request.getJMSCorrelationID());
            producer.send(request.getJMSReplyTo(), message);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    @AfterAll
    static void stop() throws Exception {
        agent.close();
    }

    private static Message request(String executionId, String stepId) throws Exception {
        List<Message> found = new ArrayList<>();
        for (Message message : REQUESTS) {
            JsonNode body = Json.parse(((TextMessage) message).getText());
            if (body.path("execution_id").asText().equals(executionId) && body.path("step_id").asText().equals(stepId)) {
                found.add(message);
            }
        }
        assertThat(found).as("requests of %s %s", executionId, stepId).hasSize(1);
        return found.get(0);
    }

    /** CONTRACT.md 2: the step request's body, every field with its type, and its JMS headers. */
    @Test
    void aStepRequestCarriesEveryContractFieldWithItsTypeAndADurableReplyQueue() throws Exception {
        Message message = request(completed, "analyze");
        assertThat(message).isInstanceOf(TextMessage.class);
        assertThat(message.getJMSCorrelationID()).isNotBlank();
        assertThat(message.getJMSReplyTo()).isInstanceOf(Queue.class).isNotInstanceOf(TemporaryQueue.class);
        String replyQueue = ((Queue) message.getJMSReplyTo()).getQueueName();
        assertThat(replyQueue).isEqualTo(shared().settings().replyQueue());

        JsonNode body = Json.parse(((TextMessage) message).getText());
        assertThat(body.path("execution_id").isTextual()).isTrue();
        assertThat(body.path("execution_id").asText()).isEqualTo(completed);
        assertThat(body.path("workflow_id").asText()).isEqualTo("f_contract");
        assertThat(body.path("step_id").asText()).isEqualTo("analyze");
        assertThat(body.path("agent").asText()).isEqualTo(AGENT);
        assertThat(body.path("action").asText()).isEqualTo("analyze_transcript");
        assertThat(body.path("attempt").isIntegralNumber()).as(body.toString()).isTrue();
        assertThat(body.path("attempt").asInt()).isEqualTo(1);
        assertThat(body.path("iteration").isIntegralNumber()).as(body.toString()).isTrue();
        assertThat(body.path("iteration").asInt()).isZero();
        // the dotted from_trigger path read into the payload; a source that finds nothing (fail) leaves its key out
        assertThat(body.path("input").toString()).isEqualTo("{\"candidate_email\":\"c@example.com\"}");
        // an ISO-8601 instant in UTC as every time the coordinator gives (docs/http-api.md): one pattern parses them all
        assertThat(body.path("deadline").asText()).matches(ISO_MICROS);
        Instant started = ((java.sql.Timestamp) query("SELECT started_at FROM workflow_step_executions WHERE execution_id = ? "
                + "AND step_id = 'analyze'", completed).get(0).get("started_at")).toInstant();
        // the step's timeout_ms (30 s) from its attempt's start: to the millisecond, so at most 1 ms before it
        assertThat(Instant.parse(body.path("deadline").asText()))
                .isBetween(started.plusMillis(30_000 - 2), started.plusMillis(30_000 + 1));

        // the dotted output_key read into the dependency's output; sent as that reply was recorded, its deadline in the same form
        JsonNode notify = Json.parse(((TextMessage) request(completed, "notify")).getText());
        assertThat(notify.path("input").toString()).isEqualTo("{\"score\":71}");
        assertThat(notify.path("deadline").asText()).matches(ISO_MICROS);
        // a step without input_mapping gets an empty object, not null
        assertThat(Json.parse(((TextMessage) request(completed, "archive")).getText()).path("input").toString()).isEqualTo("{}");
    }

    /** CONTRACT.md 2: queues are anycast and durable, the reply queue too (a reply survives a coordinator restart). */
    @Test
    void theContractsQueuesAreAnycastAndDurable() throws Exception {
        try (ActiveMQConnectionFactory factory = new ActiveMQConnectionFactory(shared().brokerUrl());
             Connection connection = factory.createConnection()) {
            ClientSession core = ((ActiveMQSession) connection.createSession(false, Session.AUTO_ACKNOWLEDGE)).getCoreSession();
            for (String queue : List.of("agent.events", "agent." + AGENT, shared().settings().replyQueue())) {
                ClientSession.QueueQuery found = core.queueQuery(SimpleString.of(queue));
                assertThat(found.isExists()).as(queue).isTrue();
                assertThat(found.isDurable()).as(queue).isTrue();
                assertThat(found.isTemporary()).as(queue).isFalse();
                assertThat(found.getRoutingType()).as(queue).isEqualTo(RoutingType.ANYCAST);
            }
        }
    }

    /** CONTRACT.md 2: the outcome events on agent.events, with payload {"workflow_id", "execution_id", "status", "results" | "failures"}. */
    @Test
    void outcomeEventsCarryTheContractsPayload() {
        JsonNode done = outcome("F_CONTRACT_DONE", completed);
        assertThat(fieldNames(done)).containsExactlyInAnyOrder("workflow_id", "execution_id", "status", "results");
        assertThat(done.path("workflow_id").asText()).isEqualTo("f_contract");
        assertThat(done.path("status").asText()).isEqualTo("completed");
        assertThat(fieldNames(done.path("results"))).containsExactlyInAnyOrder("analyze", "notify", "archive");
        JsonNode analyzed = done.path("results").path("analyze");
        assertThat(fieldNames(analyzed)).contains("step_id", "status", "output", "error", "started_at", "completed_at");
        assertThat(analyzed.path("status").asText()).isEqualTo("completed");
        assertThat(analyzed.path("output").toString()).isEqualTo("{\"analysis\":{\"score\":71},\"feedback\":\"structure answers\"}");
        assertThat(analyzed.path("error").isNull()).isTrue();
        assertThat(analyzed.path("started_at").asText()).matches(ISO_MICROS);
        assertThat(analyzed.path("completed_at").asText()).matches(ISO_MICROS);
        assertThat(done.path("results").path("notify").path("status").asText()).isEqualTo("completed");

        JsonNode failure = outcome("F_CONTRACT_FAILED", failed);
        assertThat(fieldNames(failure)).containsExactlyInAnyOrder("workflow_id", "execution_id", "status", "failures");
        assertThat(failure.path("workflow_id").asText()).isEqualTo("f_contract");
        assertThat(failure.path("status").asText()).isEqualTo("failed");
        assertThat(failure.path("failures").isArray()).as(failure.toString()).isTrue();
        assertThat(failure.path("failures")).singleElement().satisfies(step -> {
            assertThat(step.path("step_id").asText()).isEqualTo("analyze");
            assertThat(step.path("status").asText()).isEqualTo("failed");
            assertThat(step.path("error").asText()).isEqualTo("transcript not found");
        });
    }

    private static JsonNode outcome(String type, String executionId) {
        List<Map<String, Object>> rows = await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(100))
                .until(() -> query("SELECT payload::text AS payload FROM agent_events WHERE type = ? AND payload->>'execution_id' = ?",
                        type, executionId), found -> !found.isEmpty());
        assertThat(rows).as(type).hasSize(1);
        return Json.parse(rows.get(0).get("payload").toString());
    }

    private static List<String> fieldNames(JsonNode node) {
        List<String> names = new ArrayList<>();
        node.fieldNames().forEachRemaining(names::add);
        return names;
    }

    /** CONTRACT.md 3: the tables the user can query and their columns, with the types an outside query reads. */
    @Test
    void theStateTablesHaveTheContractsColumns() {
        Map<String, String> executions = columns("workflow_executions");
        assertThat(executions).containsEntry("trigger_payload", "jsonb").containsEntry("result", "jsonb")
                .containsEntry("workflow_version", "integer")
                .containsEntry("started_at", "timestamp with time zone").containsEntry("completed_at", "timestamp with time zone");
        for (String text : List.of("id", "workflow_id", "status", "error")) {
            assertThat(executions.get(text)).as(text).isIn("text", "character varying");
        }
        Map<String, String> steps = columns("workflow_step_executions");
        assertThat(steps).containsEntry("output", "jsonb").containsEntry("attempt", "integer")
                .containsEntry("started_at", "timestamp with time zone").containsEntry("completed_at", "timestamp with time zone");
        for (String text : List.of("id", "execution_id", "step_id", "status", "error")) {
            assertThat(steps.get(text)).as(text).isIn("text", "character varying");
        }
        for (String table : List.of("agent_events", "agent_messages", "resource_locks")) {
            assertThat(columns(table)).as(table).isNotEmpty();
        }
    }

    private static Map<String, String> columns(String table) {
        Map<String, String> columns = new java.util.HashMap<>();
        for (Map<String, Object> row : query("SELECT column_name, data_type FROM information_schema.columns "
                + "WHERE table_schema = current_schema() AND table_name = ?", table)) {
            columns.put((String) row.get("column_name"), (String) row.get("data_type"));
        }
        return columns;
    }

    /** CONTRACT.md 3: an execution's rows as an outside query reads them, one per step, statuses of the contract's set. */
    @Test
    void theStateTablesHoldAnExecutionAndOneRowPerStep() {
        Map<String, Object> done = query("SELECT workflow_id, workflow_version, trigger_payload::text AS trigger_payload, status, "
                + "result->'analyze'->>'status' AS analyzed, error, started_at, completed_at FROM workflow_executions WHERE id = ?",
                completed).get(0);
        assertThat(done).containsEntry("workflow_id", "f_contract").containsEntry("workflow_version", 1)
                .containsEntry("trigger_payload", "{\"candidate\": {\"email\": \"c@example.com\"}}")
                .containsEntry("status", "completed").containsEntry("analyzed", "completed");
        assertThat(done.get("error")).isNull();
        assertThat(done.get("started_at")).isNotNull();
        assertThat(done.get("completed_at")).isNotNull();
        assertThat(query("SELECT step_id, status, attempt, output::text AS output, error FROM workflow_step_executions "
                + "WHERE execution_id = ? ORDER BY step_id", completed)).satisfiesExactly(
                analyze -> assertThat(analyze).containsEntry("step_id", "analyze").containsEntry("status", "completed")
                        .containsEntry("attempt", 1).containsEntry("output", "{\"analysis\": {\"score\": 71}, \"feedback\": \"structure answers\"}")
                        .containsEntry("error", null),
                archive -> assertThat(archive).containsEntry("step_id", "archive").containsEntry("status", "completed"),
                notify -> assertThat(notify).containsEntry("step_id", "notify").containsEntry("status", "completed")
                        .containsEntry("output", "{\"notified\": true}"));

        Map<String, Object> lost = query("SELECT status, error, completed_at FROM workflow_executions WHERE id = ?", failed).get(0);
        assertThat(lost).containsEntry("status", "failed").containsEntry("error", "failed steps: analyze");
        assertThat(lost.get("completed_at")).isNotNull();
        assertThat(query("SELECT step_id, status, attempt, output, error FROM workflow_step_executions "
                + "WHERE execution_id = ? ORDER BY step_id", failed)).satisfiesExactly(
                analyze -> assertThat(analyze).containsEntry("status", "failed").containsEntry("attempt", 1)
                        .containsEntry("output", null).containsEntry("error", "transcript not found"),
                archive -> assertThat(archive).containsEntry("step_id", "archive").containsEntry("status", "skipped"),
                notify -> assertThat(notify).containsEntry("step_id", "notify").containsEntry("status", "skipped"));
    }

    /** CONTRACT.md 4: GET /api/executions/{id}, the spec's getExecutionStatus, each step with its six fields. */
    @Test
    void anExecutionIsAnsweredWithEachStepsContractFields() {
        HttpResponse<String> answer = get("/api/executions/" + failed);
        assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
        JsonNode view = Json.parse(answer.body());
        assertThat(view.path("status").asText()).isEqualTo("failed");
        Map<String, JsonNode> steps = new java.util.HashMap<>();
        for (JsonNode step : view.path("steps")) {
            assertThat(fieldNames(step)).as(step.toString()).contains("step_id", "status", "output", "error", "started_at", "completed_at");
            steps.put(step.path("step_id").asText(), step);
        }
        assertThat(steps).containsOnlyKeys("analyze", "notify", "archive");
        JsonNode analyze = steps.get("analyze");
        assertThat(analyze.path("status").asText()).isEqualTo("failed");
        assertThat(analyze.path("error").asText()).isEqualTo("transcript not found");
        assertThat(analyze.path("output").isNull()).isTrue();
        assertThat(analyze.path("started_at").asText()).matches(ISO_MICROS);
        assertThat(analyze.path("completed_at").asText()).matches(ISO_MICROS);
        assertThat(steps.get("notify").path("status").asText()).isEqualTo("skipped");
        assertThat(steps.get("archive").path("status").asText()).isEqualTo("skipped");

        JsonNode done = Json.parse(get("/api/executions/" + completed).body());
        assertThat(done.path("status").asText()).isEqualTo("completed");
        assertThat(done.path("steps")).allSatisfy(step -> {
            assertThat(step.path("status").asText()).isEqualTo("completed");
            assertThat(step.path("output").isObject()).as(step.toString()).isTrue();
            assertThat(step.path("error").isNull()).as(step.toString()).isTrue();
        });
    }

    /** CONTRACT.md 4: POST /api/events answers 202 with the event id, the sender's own when it gave one. */
    @Test
    void aPostedEventIsAnswered202WithTheIdItWasGiven() {
        assertThat(posted.statusCode()).as(posted.body()).isEqualTo(202);
        assertThat(Json.parse(posted.body()).path("event_id").asText()).isEqualTo(postedEventId);
    }

    /**
     * CONTRACT.md 2 and 4: an event's body is one on agent.events and over POST /api/events. Its event_id, the idempotency
     * key, may be a number, taken as its text (5 and "5" are one id: docs/http-api.md); a payload left out is {}.
     */
    @Test
    void anEventIdGivenAsANumberIsItsTextOnTheQueueAndOverHttp() {
        long number = 1_000_000_000L + new java.util.Random().nextInt(1_000_000_000);
        HttpResponse<String> answer = post("/api/events", "{\"type\": \"CONTRACT_NUMBERED\", \"event_id\": " + number + "}");
        assertThat(answer.statusCode()).as(answer.body()).isEqualTo(202);
        assertThat(Json.parse(answer.body()).path("event_id").asText()).isEqualTo(String.valueOf(number));
        // the same id as text, on the queue: one event, delivered twice
        sendRaw("{\"type\": \"CONTRACT_NUMBERED\", \"event_id\": \"" + number + "\", \"payload\": null}");
        JsonNode received = await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(100)).until(() -> {
            HttpResponse<String> event = get("/api/events/" + number);
            return event.statusCode() == 200 ? Json.parse(event.body()) : null;
        }, event -> event != null && event.path("deliveries").asInt() == 2);
        assertThat(received.path("type").asText()).isEqualTo("CONTRACT_NUMBERED");
        assertThat(received.path("payload").toString()).isEqualTo("{}");
    }

    /**
     * CONTRACT.md 2: an event the coordinator cannot route goes to agent.events.DLQ, an anycast durable queue, unchanged,
     * with a header saying why. Discarded at the end, so that no listing of the dead letters meets it.
     */
    @Test
    void anEventThatCannotBeRoutedIsDeadLetteredUnchangedSayingWhy() throws Exception {
        String eventId = "contract-dlq-" + UUID.randomUUID();
        String body = "{\"type\": 5, \"event_id\": \"" + eventId + "\", \"payload\": {}}";
        sendRaw(body);
        JsonNode listed = await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200)).until(() -> {
            HttpResponse<String> page = get("/api/dead-letters?event_id=" + eventId);
            return page.statusCode() == 200 ? Json.parse(page.body()).path("dead_letters") : null;
        }, page -> page != null && page.size() == 1).get(0);
        String messageId = listed.path("message_id").asText();
        try {
            assertThat(listed.path("reason").asText()).as(listed.toString()).contains("type");
            HttpResponse<String> whole = get("/api/dead-letters/" + messageId);
            assertThat(whole.statusCode()).as(whole.body()).isEqualTo(200);
            assertThat(Json.parse(whole.body()).path("body").asText()).isEqualTo(body);
            try (ActiveMQConnectionFactory factory = new ActiveMQConnectionFactory(shared().brokerUrl());
                 Connection connection = factory.createConnection()) {
                ClientSession core = ((ActiveMQSession) connection.createSession(false, Session.AUTO_ACKNOWLEDGE)).getCoreSession();
                ClientSession.QueueQuery found = core.queueQuery(SimpleString.of("agent.events.DLQ"));
                assertThat(found.isDurable()).isTrue();
                assertThat(found.getRoutingType()).isEqualTo(RoutingType.ANYCAST);
            }
        } finally {
            assertThat(delete("/api/dead-letters/" + messageId).statusCode()).isEqualTo(200);
        }
    }
}
