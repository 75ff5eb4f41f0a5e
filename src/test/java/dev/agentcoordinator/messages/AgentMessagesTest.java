package dev.agentcoordinator.messages;

import com.fasterxml.jackson.databind.JsonNode;
import dev.agentcoordinator.agent.AgentMessage;
import dev.agentcoordinator.agent.AgentMessageException;
import dev.agentcoordinator.agent.AgentMessageTimeoutException;
import dev.agentcoordinator.agent.AgentMessenger;
import dev.agentcoordinator.agent.AgentService;
import dev.agentcoordinator.engine.Json;
import jakarta.jms.ConnectionFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static dev.agentcoordinator.engine.TestCoordinator.query;
import static dev.agentcoordinator.engine.TestCoordinator.shared;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/** Agent-to-agent messages through a real coordinator, with the SDK on both ends. */
class AgentMessagesTest {
    private static AgentService strategist;
    private static AgentService architect;
    private static final List<AgentMessage> notices = new CopyOnWriteArrayList<>();

    @BeforeAll
    static void agents() {
        ConnectionFactory cf = AgentService.artemisConnectionFactory(shared().brokerUrl());
        strategist = AgentService.builder(cf, "g-msg-strategist")
                .onMessage("PRIORITY_QUERY", message -> Map.of("priority", ((Number) message.payload().get("n")).intValue() + 1,
                        "asked_by", message.from()))
                .onMessage("BROKEN", message -> {
                    throw new IllegalStateException("no goals for " + message.payloadString("user_id"));
                })
                .onMessage("SUM", message -> {
                    int sum = 0;
                    for (JsonNode n : message.payloadJson()) {
                        sum += n.asInt();
                    }
                    return Map.of("sum", sum, "as_map", message.payload());
                })
                .onMessage("NOTICE", message -> {
                    notices.add(message);
                    return null;
                })
                .start();
        architect = AgentService.builder(cf, "g-msg-architect").onMessage("UNUSED", message -> null).start();
    }

    @AfterAll
    static void stop() {
        strategist.close();
        architect.close();
    }

    /** A payload may be any JSON, as the spec's sendAgentMessage has it: a list reaches the handler as it was sent. */
    @Test
    void aPayloadThatIsNoObjectReachesTheHandler() throws Exception {
        JsonNode answer = architect.messenger().ask("g-msg-strategist", "SUM", List.of(1, 2, 3), Duration.ofSeconds(10))
                .get(20, TimeUnit.SECONDS);
        assertThat(answer.path("sum").asInt()).isEqualTo(6);
        assertThat(answer.path("as_map").isEmpty()).isTrue();
    }

    /**
     * The timeout notice of a question whose sweep stopped before the notice left (its lease ran out) is
     * sent again: the timeout is committed before the notice leaves, and the message no longer matched the sweep.
     */
    @Test
    void aTimeoutNoticeLostBeforeItLeftIsSentAgain() throws Exception {
        String notices = "test.notices." + java.util.UUID.randomUUID();
        try (jakarta.jms.Connection connection = shared().connectionFactory().createConnection()) {
            connection.start();
            jakarta.jms.Session session = connection.createSession(false, jakarta.jms.Session.AUTO_ACKNOWLEDGE);
            jakarta.jms.TextMessage question = session.createTextMessage("{\"from\":\"g-msg-notice-asker\",\"to\":\"g-msg-nobody\","
                    + "\"type\":\"ANYONE\",\"payload\":{},\"requires_response\":true,\"timeout_ms\":100}");
            question.setJMSReplyTo(session.createQueue(notices));
            question.setJMSCorrelationID("question-1");
            session.createProducer(session.createQueue("agent.messages")).send(question);
            jakarta.jms.MessageConsumer consumer = session.createConsumer(session.createQueue(notices));

            JsonNode first = Json.parse(((jakarta.jms.TextMessage) consumer.receive(20_000)).getText());
            assertThat(first.path("status").asText()).isEqualTo("timed_out");
            String messageId = first.path("message_id").asText();
            await().atMost(Duration.ofSeconds(10)).until(() -> query("SELECT notice_due_at FROM agent_messages WHERE id = ?", messageId)
                    .get(0).get("notice_due_at") == null);
            // as a sweep that stopped between its commit and the send leaves it, its lease over
            query("UPDATE agent_messages SET notice_due_at = now() - interval '1 second' WHERE id = ? RETURNING id", messageId);

            jakarta.jms.Message again = consumer.receive(20_000);
            assertThat(again).isNotNull();
            assertThat(again.getJMSCorrelationID()).isEqualTo("question-1");
            assertThat(Json.parse(((jakarta.jms.TextMessage) again).getText()).path("status").asText()).isEqualTo("timed_out");
        }
    }

    @Test
    void aQuestionGetsItsResponseAndTheMessageIsRecorded() throws Exception {
        JsonNode answer = architect.messenger().ask("g-msg-strategist", "PRIORITY_QUERY", Map.of("n", 4), Duration.ofSeconds(10))
                .get(20, TimeUnit.SECONDS);

        assertThat(answer.path("priority").asInt()).isEqualTo(5);
        assertThat(answer.path("asked_by").asText()).isEqualTo("g-msg-architect");
        Map<String, Object> row = query("SELECT status, response::text AS response, delivered_at IS NOT NULL AS delivered, "
                + "responded_at IS NOT NULL AS responded FROM agent_messages WHERE from_agent = 'g-msg-architect' AND message_type = 'PRIORITY_QUERY'").get(0);
        assertThat(row.get("status")).isEqualTo("responded");
        assertThat(row.get("delivered")).isEqualTo(true);
        assertThat(row.get("responded")).isEqualTo(true);
        assertThat(Json.parse((String) row.get("response")).path("payload").path("priority").asInt()).isEqualTo(5);
    }

    @Test
    void anErrorOfTheRecipientFailsTheQuestion() {
        assertThatThrownBy(() -> architect.messenger().ask("g-msg-strategist", "BROKEN", Map.of("user_id", "u-7"), Duration.ofSeconds(10))
                .get(20, TimeUnit.SECONDS))
                .isInstanceOf(ExecutionException.class)
                .cause().isInstanceOf(AgentMessageException.class)
                .hasMessage("g-msg-strategist answered with an error: no goals for u-7");
    }

    /**
     * A delivery that marked its message delivered in PostgreSQL, then lost its send when its JMS
     * transaction failed (a broker restart): the broker delivers the message again, and it is sent again
     * rather than taken for a sender's duplicate. The test makes the redelivery real: with the inbound
     * route stopped, it takes the message in a transaction of its own and rolls it back.
     */
    @Test
    void aMessageTheBrokerDeliversAgainAfterItsRowWasMarkedDeliveredReachesItsRecipient() throws Exception {
        String messageId = java.util.UUID.randomUUID().toString();
        new org.springframework.jdbc.core.JdbcTemplate(shared().dataSource()).update("INSERT INTO agent_messages "
                + "(id, from_agent, to_agent, message_type, payload, status, delivered_at) "
                + "VALUES (?, 'g-msg-architect', 'g-msg-strategist', 'NOTICE', '{}', 'delivered', now())", messageId);
        String body = Json.write(Map.of("message_id", messageId, "from", "g-msg-architect", "to", "g-msg-strategist",
                "type", "NOTICE", "payload", Map.of("note", "sent once, delivered twice"), "requires_response", false));
        org.apache.camel.spi.RouteController routes = shared().camelContext().getRouteController();
        routes.stopRoute("coordinator.messages.inbound");
        try (jakarta.jms.Connection connection = AgentService.artemisConnectionFactory(shared().brokerUrl()).createConnection()) {
            connection.start();
            jakarta.jms.Session plain = connection.createSession(false, jakarta.jms.Session.AUTO_ACKNOWLEDGE);
            plain.createProducer(plain.createQueue("agent.messages")).send(plain.createTextMessage(body));
            jakarta.jms.Session transacted = connection.createSession(true, jakarta.jms.Session.SESSION_TRANSACTED);
            try (jakarta.jms.MessageConsumer consumer = transacted.createConsumer(transacted.createQueue("agent.messages"))) {
                assertThat(((jakarta.jms.TextMessage) consumer.receive(5000)).getText()).contains(messageId);
                transacted.rollback();
            }
        } finally {
            routes.startRoute("coordinator.messages.inbound");
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> notices.stream().anyMatch(n -> n.messageId().equals(messageId)));
        assertThat(notices.stream().filter(n -> n.messageId().equals(messageId))).singleElement()
                .satisfies(n -> assertThat(n.payloadString("note")).isEqualTo("sent once, delivered twice"));
    }

    /**
     * As above, after a broker restart, which forgets the redelivered flag: the row was marked delivered by this very
     * JMS message (accepted_by), which comes back without the flag. The test writes the row as that delivery left it,
     * naming the message it sends in a transaction (its id is known before the commit makes it deliverable).
     */
    @Test
    void aMessageThatComesBackWithoutTheRedeliveredFlagAfterItsRowWasMarkedDeliveredReachesItsRecipient() throws Exception {
        String messageId = java.util.UUID.randomUUID().toString();
        String body = Json.write(Map.of("message_id", messageId, "from", "g-msg-architect", "to", "g-msg-strategist",
                "type", "NOTICE", "payload", Map.of("note", "restart before the commit"), "requires_response", false));
        try (jakarta.jms.Connection connection = AgentService.artemisConnectionFactory(shared().brokerUrl()).createConnection()) {
            jakarta.jms.Session transacted = connection.createSession(true, jakarta.jms.Session.SESSION_TRANSACTED);
            jakarta.jms.TextMessage message = transacted.createTextMessage(body);
            transacted.createProducer(transacted.createQueue("agent.messages")).send(message);
            new org.springframework.jdbc.core.JdbcTemplate(shared().dataSource()).update("INSERT INTO agent_messages "
                    + "(id, from_agent, to_agent, message_type, payload, status, delivered_at, accepted_by) "
                    + "VALUES (?, 'g-msg-architect', 'g-msg-strategist', 'NOTICE', '{}', 'delivered', now(), ?)",
                    messageId, message.getJMSMessageID());
            transacted.commit();
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> notices.stream().anyMatch(n -> n.messageId().equals(messageId)));
        assertThat(notices.stream().filter(n -> n.messageId().equals(messageId))).singleElement()
                .satisfies(n -> assertThat(n.payloadString("note")).isEqualTo("restart before the commit"));
    }

    /** A heartbeat sent back for a message (its recipient took it for a step request) is not taken for the response. */
    @Test
    void aHeartbeatSentAsAResponseIsDroppedAndTheResponseAfterItCounts() throws Exception {
        String messageId = java.util.UUID.randomUUID().toString();
        new org.springframework.jdbc.core.JdbcTemplate(shared().dataSource()).update("INSERT INTO agent_messages "
                + "(id, from_agent, to_agent, message_type, payload, requires_response, status, delivered_at, expires_at) "
                + "VALUES (?, 'g-msg-architect', 'g-msg-strategist', 'PRIORITY_QUERY', '{}', true, 'delivered', now(), "
                + "now() + interval '1 minute')", messageId);
        try (jakarta.jms.Connection connection = AgentService.artemisConnectionFactory(shared().brokerUrl()).createConnection()) {
            jakarta.jms.Session session = connection.createSession(false, jakarta.jms.Session.AUTO_ACKNOWLEDGE);
            jakarta.jms.MessageProducer producer = session.createProducer(session.createQueue("coordinator.message-responses"));
            for (String body : List.of("{\"status\": \"running\"}", "{\"status\": \"ok\", \"payload\": {\"priority\": 3}}")) {
                jakarta.jms.TextMessage response = session.createTextMessage(body);
                response.setJMSCorrelationID(messageId);
                producer.send(response);
            }
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> !query("SELECT 1 FROM agent_messages WHERE id = ? AND status = 'responded'",
                messageId).isEmpty());
        assertThat(Json.parse((String) query("SELECT response::text AS r FROM agent_messages WHERE id = ?", messageId).get(0).get("r"))
                .path("payload").path("priority").asInt()).isEqualTo(3);
    }

    /** A question of g-msg-http to g-msg-strategist as the coordinator stores it, never delivered. */
    private static void storedQuestion(String messageId, String status, String expiresIn) {
        new org.springframework.jdbc.core.JdbcTemplate(shared().dataSource()).update("INSERT INTO agent_messages "
                + "(id, from_agent, to_agent, message_type, payload, requires_response, status, expires_at) "
                + "VALUES (?, 'g-msg-http', 'g-msg-strategist', 'PRIORITY_QUERY', '{}', true, ?, now() + CAST(? AS interval))",
                messageId, status, expiresIn);
    }

    @Test
    void aQuestionNobodyAnswersTimesOut() throws Exception {
        try (AgentMessenger messenger = AgentMessenger.connect(AgentService.artemisConnectionFactory(shared().brokerUrl()), "g-msg-asker")) {
            // the coordinator's notice ("no response from …"), not the SDK's local fallback ("… no timeout notice")
            assertThatThrownBy(() -> messenger.ask("g-msg-nobody", "ANYONE_THERE", Map.of(), Duration.ofMillis(300))
                    .get(20, TimeUnit.SECONDS))
                    .cause().isInstanceOf(AgentMessageTimeoutException.class)
                    .hasMessageContaining("no response from g-msg-nobody");
        }
        assertThat(query("SELECT status FROM agent_messages WHERE from_agent = 'g-msg-asker'"))
                .containsExactly(Map.of("status", "timed_out"));
        // an agent that starts now is not handed the question its sender gave up on: it expired with the wait
        try (jakarta.jms.Connection connection = AgentService.artemisConnectionFactory(shared().brokerUrl()).createConnection()) {
            connection.start();
            jakarta.jms.Session session = connection.createSession(false, jakarta.jms.Session.AUTO_ACKNOWLEDGE);
            try (jakarta.jms.MessageConsumer late = session.createConsumer(session.createQueue("agent.g-msg-nobody"))) {
                assertThat(late.receive(1000)).isNull();
            }
        }
    }

    @Test
    void aNoticeIsDeliveredWithoutAResponse() {
        String messageId = architect.messenger().tell("g-msg-strategist", "NOTICE", Map.of("roadmap", "changed"));

        await().atMost(Duration.ofSeconds(10)).until(() -> notices.stream().anyMatch(m -> m.messageId().equals(messageId)));
        AgentMessage notice = notices.stream().filter(m -> m.messageId().equals(messageId)).findFirst().orElseThrow();
        assertThat(notice.from()).isEqualTo("g-msg-architect");
        assertThat(notice.requiresResponse()).isFalse();
        assertThat(notice.payloadString("roadmap")).isEqualTo("changed");
        await().atMost(Duration.ofSeconds(5)).until(() -> "delivered".equals(
                query("SELECT status FROM agent_messages WHERE id = ?", messageId).get(0).get("status")));
    }

    @Test
    void overHttpTheMessageIsPostedAndItsResponseRead() throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        HttpResponse<String> posted = postMessage(http, "{\"from\":\"g-msg-http\",\"to\":\"g-msg-strategist\","
                + "\"type\":\"PRIORITY_QUERY\",\"payload\":{\"n\":9},\"requires_response\":true,\"timeout_ms\":10000}");
        assertThat(posted.statusCode()).isEqualTo(202);
        String messageId = Json.parse(posted.body()).path("message_id").asText();

        URI view = URI.create(shared().httpUrl() + "/api/messages/" + messageId);
        await().atMost(Duration.ofSeconds(10)).until(() -> "responded".equals(Json.parse(
                http.send(HttpRequest.newBuilder(view).build(), HttpResponse.BodyHandlers.ofString()).body()).path("status").asText()));
        JsonNode message = Json.parse(http.send(HttpRequest.newBuilder(view).build(), HttpResponse.BodyHandlers.ofString()).body());
        assertThat(message.path("from").asText()).isEqualTo("g-msg-http");
        assertThat(message.at("/response/payload/priority").asInt()).isEqualTo(10);
        assertThat(java.time.Instant.parse(message.path("created_at").asText())).isNotNull();   // UTC, as every view's times
        assertThat(message.path("created_at").asText()).endsWith("Z");

        // a field a message does not have is accepted, and named (a "payloads" would leave the payload empty)
        HttpResponse<String> misspelt = postMessage(http, "{\"from\":\"g-msg-http\",\"to\":\"g-msg-http\",\"type\":\"X\","
                + "\"payloads\":{\"k\":1}}");
        assertThat(misspelt.statusCode()).isEqualTo(202);
        assertThat(Json.parse(misspelt.body()).path("warning").asText()).startsWith("message field \"payloads\" is ignored")
                .contains("did you mean \"payload\" for \"payloads\"?");
        HttpResponse<String> refused = postMessage(http, "{\"from\":\"g-msg-http\",\"type\":\"X\"}");
        assertThat(refused.statusCode()).isEqualTo(400);
        assertThat(refused.body()).contains("agent message field to is required");
        HttpResponse<String> unstorable = postMessage(http,
                "{\"from\":\"g-msg-http\",\"to\":\"g-msg-http\",\"type\":\"X\",\"payload\":{\"k\":\"v\\u0000\"}}");
        assertThat(unstorable.statusCode()).isEqualTo(400);
        assertThat(unstorable.body()).contains("agent message contains the character U+0000");
        // agent.events is the coordinator's: a message there would start a workflow
        HttpResponse<String> toEvents = postMessage(http,
                "{\"from\":\"g-msg-http\",\"to\":\"events\",\"type\":\"INTERVIEW_COMPLETED\",\"payload\":{\"interview_id\":\"i-1\"}}");
        assertThat(toEvents.statusCode()).isEqualTo(400);
        assertThat(toEvents.body()).contains("agent message field to \\\"events\\\" is reserved");

        // a message id is one message's: another sender reusing it is refused, a repeat of the message is dropped
        String taken = java.util.UUID.randomUUID().toString();
        new org.springframework.jdbc.core.JdbcTemplate(shared().dataSource()).update("INSERT INTO agent_messages "
                + "(id, from_agent, to_agent, message_type, payload, status, delivered_at) "
                + "VALUES (?, 'g-msg-architect', 'g-msg-strategist', 'NOTICE', '{\"note\": \"first\"}', 'delivered', now())", taken);
        HttpResponse<String> reused = postMessage(http, "{\"message_id\":\"" + taken
                + "\",\"from\":\"g-msg-http\",\"to\":\"g-msg-strategist\",\"type\":\"NOTICE\",\"payload\":{}}");
        assertThat(reused.statusCode()).isEqualTo(400);
        assertThat(reused.body()).contains("message_id " + taken + " is taken by another message");
        HttpResponse<String> repeated = postMessage(http, "{\"message_id\":\"" + taken
                + "\",\"from\":\"g-msg-architect\",\"to\":\"g-msg-strategist\",\"type\":\"NOTICE\",\"payload\":{}}");
        assertThat(repeated.statusCode()).isEqualTo(202);

        // a message whose first send failed stays pending: posted again with its id, it is delivered, and waits
        // its full time from then; one that timed out meanwhile, never delivered, cannot be sent that way (409)
        var jdbc = new org.springframework.jdbc.core.JdbcTemplate(shared().dataSource());
        String unsent = java.util.UUID.randomUUID().toString();
        storedQuestion(unsent, "pending", "1 second");
        HttpResponse<String> resent = postMessage(http, "{\"message_id\":\"" + unsent + "\",\"from\":\"g-msg-http\",\"to\":\"g-msg-strategist\","
                + "\"type\":\"PRIORITY_QUERY\",\"payload\":{\"n\":1},\"requires_response\":true,\"timeout_ms\":60000}");
        assertThat(resent.statusCode()).isEqualTo(202);
        await().atMost(Duration.ofSeconds(10)).until(() -> "responded".equals(jdbc.queryForObject(
                "SELECT status FROM agent_messages WHERE id = ?", String.class, unsent)));
        assertThat(jdbc.queryForObject("SELECT expires_at > now() + interval '30 seconds' FROM agent_messages WHERE id = ?",
                Boolean.class, unsent)).as("the repost's 60 s wait, not what was left of the first post's").isTrue();
        String expired = java.util.UUID.randomUUID().toString();
        storedQuestion(expired, "timed_out", "0 seconds");
        HttpResponse<String> tooLate = postMessage(http, "{\"message_id\":\"" + expired + "\",\"from\":\"g-msg-http\",\"to\":\"g-msg-strategist\","
                + "\"type\":\"PRIORITY_QUERY\",\"payload\":{},\"requires_response\":true}");
        assertThat(tooLate.statusCode()).isEqualTo(409);
        assertThat(tooLate.body()).contains("timed out before it could be delivered");
        assertThat(http.send(HttpRequest.newBuilder(URI.create(shared().httpUrl() + "/api/messages/nope")).build(),
                HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(404);
    }

    private static HttpResponse<String> postMessage(HttpClient http, String body) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(shared().httpUrl() + "/api/messages"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body))
                .build(), HttpResponse.BodyHandlers.ofString());
    }
}
