package dev.agentcoordinator.engine;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static dev.agentcoordinator.engine.ExecutionProbe.*;
import static dev.agentcoordinator.engine.ScriptedAgents.Reply;
import static dev.agentcoordinator.engine.TestCoordinator.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;
import static org.awaitility.Awaitility.await;

/** Events and replies delivered twice, late, for nobody or malformed change nothing twice, and are recorded. */
class DuplicateDeliverySemanticsTest {
    private static ScriptedAgents agents;

    @BeforeAll
    static void agents() throws Exception {
        agents = new ScriptedAgents(shared().connectionFactory())
                .echo("f-dupevent-agent", r -> Map.of("ran", r.action()))
                .agent("f-replies-agent", DuplicateDeliverySemanticsTest::reply)
                .echo("f-skipreplay-agent", r -> Map.of("go", false))
                .agent("f-skipreplay-silent", r -> List.of());   // c stays running
    }

    /** How f-replies-agent misbehaves on step "answer" depends on the trigger's mode. */
    private static List<Reply> reply(ScriptedAgents.Received r) {
        int attempt = r.request().path("attempt").asInt();
        Reply ok = Reply.ok(Map.of("answered_attempt", attempt));
        if (!"answer".equals(r.action())) {
            return List.of(ok);
        }
        return switch (r.input().path("mode").asText()) {
            case "twice" -> List.of(ok, ok);
            // copies that reach competing reply consumers at the same moment race for the attempt
            case "burst" -> List.of(ok, ok, ok, ok, ok);
            // attempt 1 gets no answer within its 400 ms; the test sends one once attempt 2 completed
            case "late" -> attempt == 1 ? List.of() : List.of(ok);
            case "malformed" -> attempt == 1 ? List.of(new Reply(0, "{\"status\": \"ok\", \"output\": {oops", null)) : List.of(ok);
            // Latin-1, as a STOMP client on a Latin-1 platform may send it
            case "latin1" -> attempt == 1 ? List.of(Reply.ofBytes("{\"status\": \"ok\", \"output\": {\"name\": \"caf\u00e9\"}}"
                    .getBytes(java.nio.charset.StandardCharsets.ISO_8859_1))) : List.of(ok);
            // the test replies itself, as a STOMP client would
            case "by-the-test" -> List.of();
            default -> List.of(ok);
        };
    }

    /**
     * An event and a reply sent without a JMSMessageID, as every STOMP client sends them: what each started is
     * still known to be theirs (dispatched_by names the broker's id of the message), so that a replay of either,
     * after a crash that lost the send, sends the request again. They recorded NULL, and such a request was lost
     * until the attempt's timeout.
     */
    @Test
    void whatAMessageWithoutAMessageIdStartedIsKnownToBeItsOwn() throws Exception {
        String eventId = UUID.randomUUID().toString();
        sendWithoutMessageId("agent.events", "{\"type\":\"F_REPLIES\",\"event_id\":\"" + eventId
                + "\",\"payload\":{\"mode\":\"by-the-test\"}}", null);
        await().atMost(Duration.ofSeconds(20)).until(() -> executionOf(eventId) != null && !requests(agents, executionOf(eventId), "answer").isEmpty());
        String executionId = executionOf(eventId);
        assertThat(dispatchedBy(executionId, "answer")).startsWith("broker:");

        sendWithoutMessageId(shared().settings().replyQueue(), "{\"status\": \"ok\", \"output\": {}}",
                requests(agents, executionId, "answer").get(0).correlationId());
        awaitExecution(eventId, "completed");
        assertThat(dispatchedBy(executionId, "next")).startsWith("broker:").isNotEqualTo(dispatchedBy(executionId, "answer"));
    }

    /** The broker's id of a message names it on every delivery: after a rollback it is delivered again under the same one. */
    @Test
    void theBrokersIdOfAMessageWithoutAMessageIdIsTheSameOnItsNextDelivery() throws Exception {
        String queue = "test.consumed-message-id." + UUID.randomUUID();
        sendWithoutMessageId(queue, "{}", null);
        try (jakarta.jms.Connection connection = shared().connectionFactory().createConnection()) {
            connection.start();
            jakarta.jms.Session session = connection.createSession(true, jakarta.jms.Session.SESSION_TRANSACTED);
            jakarta.jms.MessageConsumer consumer = session.createConsumer(session.createQueue(queue));
            org.apache.camel.component.jms.JmsMessage first = asCamelMessage(consumer.receive(5000));
            session.rollback();
            org.apache.camel.component.jms.JmsMessage again = asCamelMessage(consumer.receive(5000));
            session.commit();
            assertThat(first.getJmsMessage().getJMSMessageID()).isNull();
            assertThat(ConsumedMessageId.of(first)).startsWith("broker:").isEqualTo(ConsumedMessageId.of(again));
        }
    }

    private static org.apache.camel.component.jms.JmsMessage asCamelMessage(jakarta.jms.Message message) {
        assertThat(message).isNotNull();
        org.apache.camel.support.DefaultExchange exchange = new org.apache.camel.support.DefaultExchange(shared().camelContext());
        return new org.apache.camel.component.jms.JmsMessage(exchange, message, null,
                new org.apache.camel.component.jms.JmsBinding());
    }

    private static String dispatchedBy(String executionId, String stepId) {
        return (String) query("SELECT dispatched_by FROM workflow_step_executions WHERE execution_id = ? AND step_id = ?",
                executionId, stepId).get(0).get("dispatched_by");
    }

    /** Sends {@code body} as a TextMessage without a JMSMessageID (setDisableMessageID), as STOMP clients' messages come. */
    private static void sendWithoutMessageId(String queue, String body, String correlationId) throws jakarta.jms.JMSException {
        // a plain Artemis client: the coordinator's pooled producers give every message an id
        try (org.apache.activemq.artemis.jms.client.ActiveMQConnectionFactory factory =
                     new org.apache.activemq.artemis.jms.client.ActiveMQConnectionFactory(shared().brokerUrl());
             jakarta.jms.Connection connection = factory.createConnection()) {
            jakarta.jms.Session session = connection.createSession(false, jakarta.jms.Session.AUTO_ACKNOWLEDGE);
            jakarta.jms.MessageProducer producer = session.createProducer(session.createQueue(queue));
            producer.setDisableMessageID(true);
            jakarta.jms.TextMessage message = session.createTextMessage(body);
            if (correlationId != null) {
                message.setJMSCorrelationID(correlationId);
            }
            producer.send(message);
        }
    }

    @AfterAll
    static void stop() throws Exception {
        agents.close();
    }

    @Test
    void theSameEventDeliveredTwentyTimesFromSeveralThreadsStartsOneExecution() throws Exception {
        String eventId = "f-dup-" + UUID.randomUUID();
        String body = "{\"type\":\"F_DUP_EVENT\",\"event_id\":\"" + eventId + "\",\"payload\":{\"n\":1}}";
        ExecutorService senders = Executors.newFixedThreadPool(4);
        CountDownLatch go = new CountDownLatch(1);
        List<Future<?>> sent = new ArrayList<>();
        try {
            for (int thread = 0; thread < 4; thread++) {
                sent.add(senders.submit(() -> {
                    go.await();
                    for (int i = 0; i < 5; i++) {
                        sendRaw(body);
                    }
                    return null;
                }));
            }
            go.countDown();
            for (Future<?> f : sent) {
                f.get();
            }
        } finally {
            senders.shutdown();
        }

        await().atMost(Duration.ofSeconds(20)).until(() -> query("SELECT deliveries FROM agent_events WHERE event_key = ?", eventId)
                .stream().anyMatch(r -> ((Number) r.get("deliveries")).intValue() == 20));
        String executionId = awaitExecution(eventId, "completed");
        assertThat(query("SELECT id FROM workflow_executions WHERE trigger_event_key = ?", eventId)).hasSize(1);
        assertThat(query("SELECT workflow_id, execution_id FROM agent_events WHERE event_key = ?", eventId))
                .singleElement().satisfies(r -> assertThat(r).containsEntry("workflow_id", "f_dup_event").containsEntry("execution_id", executionId));
        assertThat(requests(agents, executionId, "first")).hasSize(1);
        assertThat(requests(agents, executionId, "second")).hasSize(1);
        assertThat(query("SELECT count(*) AS n FROM workflow_step_executions WHERE execution_id = ?", executionId))
                .first().satisfies(r -> assertThat(((Number) r.get("n")).intValue()).isEqualTo(2));
    }

    /** A repeated event re-checks its execution's roots only on the workflow version the execution runs on. */
    @Test
    void aRepeatedEventLeavesAnExecutionOfAnotherVersionAlone() {
        String eventId = "f-dup-version-" + UUID.randomUUID();
        String body = "{\"type\":\"F_DUP_EVENT\",\"event_id\":\"" + eventId + "\",\"payload\":{\"n\":1}}";
        sendRaw(body);
        String executionId = awaitExecution(eventId, "completed");
        // as if the execution ran on version 99 and its root had not started when the event came again
        query("UPDATE workflow_executions SET status = 'running', workflow_version = 99, completed_at = NULL WHERE id = ? RETURNING id", executionId);
        query("UPDATE workflow_step_executions SET status = 'pending', output = NULL, completed_at = NULL WHERE execution_id = ? RETURNING id", executionId);

        sendRaw(body);
        await().atMost(Duration.ofSeconds(10)).until(() -> query("SELECT deliveries FROM agent_events WHERE event_key = ?", eventId)
                .stream().anyMatch(r -> ((Number) r.get("deliveries")).intValue() == 2));
        await().during(Duration.ofMillis(700)).atMost(Duration.ofSeconds(3)).until(() -> requests(agents, executionId, "first").size() == 1);
        assertThat(stepStatuses(executionId)).containsEntry("first", "pending");
        query("UPDATE workflow_executions SET status = 'cancelled' WHERE id = ? RETURNING id", executionId);   // nobody runs version 99
    }

    @Test
    void aReplyDeliveredTwiceIsAppliedOnceAndTheDuplicateRecorded() {
        String executionId = awaitExecution(sendEvent("F_REPLIES", "{\"mode\":\"twice\"}"), "completed");

        assertThat(attempts(executionId, "answer")).extracting(r -> r.get("attempt"), r -> r.get("status"))
                .containsExactly(tuple(1, "completed"));
        assertThat(requests(agents, executionId, "next")).hasSize(1);
        await().atMost(Duration.ofSeconds(10)).until(() -> !ignoredReplies(executionId).isEmpty());
        assertThat(ignoredReplies(executionId)).singleElement().satisfies(r -> {
            assertThat(r).containsEntry("step_id", "answer");
            assertThat(r.get("correlation_id").toString()).contains(":1@f_replies~v1/answer/");
            // whether the copy came after the original settled the step or raced it, it names itself a duplicate
            assertThat(r.get("reason").toString()).contains("duplicate", "attempt 1");
        });
    }

    @Test
    void copiesOfAReplyArrivingTogetherAreAppliedOnceAndEveryOtherCopyRecorded() {
        String executionId = awaitExecution(sendEvent("F_REPLIES", "{\"mode\":\"burst\"}"), "completed");

        assertThat(attempts(executionId, "answer")).extracting(r -> r.get("attempt"), r -> r.get("status"))
                .containsExactly(tuple(1, "completed"));
        assertThat(requests(agents, executionId, "next")).hasSize(1);
        await().atMost(Duration.ofSeconds(10)).until(() -> ignoredReplies(executionId).size() >= 4);
        assertThat(ignoredReplies(executionId)).hasSize(4).allSatisfy(r -> {
            assertThat(r).containsEntry("step_id", "answer");
            assertThat(r.get("reason").toString()).contains("duplicate");
        });
    }

    @Test
    void aReplyArrivingAfterItsAttemptTimedOutIsIgnoredAndRecorded() throws Exception {
        String executionId = awaitExecution(sendEvent("F_REPLIES_LATE", "{\"mode\":\"late\"}"), "completed");

        assertThat(attempts(executionId, "answer")).extracting(r -> r.get("attempt"), r -> r.get("status"))
                .containsExactly(tuple(1, "timed_out"), tuple(2, "completed"));
        sendReply(requests(agents, executionId, "answer").get(0).correlationId(), "{\"status\":\"ok\",\"output\":{\"answered_attempt\":1}}");
        await().atMost(Duration.ofSeconds(10)).until(() -> !ignoredReplies(executionId).isEmpty());
        assertThat(ignoredReplies(executionId)).singleElement().satisfies(r -> {
            assertThat(r.get("correlation_id").toString()).contains(":1@f_replies_late~v1/answer/");
            assertThat(r.get("reason").toString()).contains("attempt 1", "completed at attempt 2");
        });
        assertThat(stepRow(executionId, "answer").get("output").toString()).contains("\"answered_attempt\": 2");
        assertThat(requests(agents, executionId, "next")).hasSize(1);
    }

    /** A reply for an attempt past the step's latest was never asked for: its reason says so, not "late or duplicate". */
    @Test
    void aReplyForAnAttemptNeverSentIsRecordedAsSuch() throws Exception {
        String executionId = awaitExecution(sendEvent("F_REPLIES", "{\"mode\":\"once\"}"), "completed");
        String sent = requests(agents, executionId, "answer").get(0).correlationId();
        sendReply(sent.replace(":1@", ":7@"), "{\"status\":\"ok\",\"output\":{}}");

        await().atMost(Duration.ofSeconds(10)).until(() -> !ignoredReplies(executionId).isEmpty());
        assertThat(ignoredReplies(executionId)).singleElement().satisfies(r -> assertThat(r.get("reason").toString())
                .startsWith("reply for attempt 7, never sent, of step answer (it reached the broker at ")
                .endsWith("), which is completed at attempt 1"));
    }

    @Test
    void aReplyWithAnUnknownCorrelationIdIsRecorded() throws Exception {
        String unknownRow = "f-unknown-" + UUID.randomUUID() + ":1";
        String notOurs = "f-not-a-step-attempt-" + UUID.randomUUID();
        // names a loaded step, so it goes straight to that step's transition, which finds no such attempt
        String unknownRowOfKnownStep = "f-unknown-" + UUID.randomUUID() + ":1@f_replies/answer/2";
        sendReply(unknownRow, "{\"status\":\"ok\",\"output\":{}}");
        sendReply(notOurs, "{\"status\":\"ok\",\"output\":{}}");
        sendReply(unknownRowOfKnownStep, "{\"status\":\"error\",\"error\":\"boom\"}");

        await().atMost(Duration.ofSeconds(10)).until(() -> query("SELECT 1 FROM ignored_replies WHERE correlation_id IN (?, ?, ?)",
                unknownRow, notOurs, unknownRowOfKnownStep).size() == 3);
        assertThat(query("SELECT reason, body FROM ignored_replies WHERE correlation_id = ?", unknownRow)).singleElement()
                .satisfies(r -> assertThat(r.get("reason").toString()).contains("no step attempt " + unknownRow));
        assertThat(query("SELECT reason, body FROM ignored_replies WHERE correlation_id = ?", unknownRowOfKnownStep)).singleElement()
                .satisfies(r -> assertThat(r.get("reason").toString()).contains("no step attempt " + unknownRowOfKnownStep));
        assertThat(query("SELECT reason FROM ignored_replies WHERE correlation_id = ?", notOurs)).singleElement()
                .satisfies(r -> assertThat(r.get("reason").toString()).contains("does not name a step attempt"));
    }

    /** An ignored reply changes nothing: what it said is kept cut short, its reason saying so, not megabytes a row. */
    @Test
    void anIgnoredReplysBodyIsRecordedCutShortSayingSo() throws Exception {
        String unknownRow = "f-unknown-large-" + UUID.randomUUID() + ":1";
        String body = "{\"status\":\"ok\",\"output\":{\"blob\":\"" + "x".repeat(100_000) + "\"}}";
        sendReply(unknownRow, body);
        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(100))
                .until(() -> !query("SELECT 1 FROM ignored_replies WHERE correlation_id = ?", unknownRow).isEmpty());
        assertThat(query("SELECT reason, body FROM ignored_replies WHERE correlation_id = ?", unknownRow)).singleElement()
                .satisfies(r -> {
                    assertThat(r.get("body").toString()).isEqualTo(body.substring(0, 4096));
                    assertThat(r.get("reason").toString()).endsWith("; body cut to its first 4,096 of 100,036 characters");
                });
    }

    /**
     * A correlation id longer than ignored_replies keeps (255 characters) is recorded cut short: its insert failed at
     * every delivery, an ERROR with its stack trace each time, until the broker dead-lettered the reply.
     */
    @Test
    void aReplyWhoseCorrelationIdIsTooLongToKeepIsRecordedCutShort() throws Exception {
        String tooLong = "f-forged-" + UUID.randomUUID() + "-" + "x".repeat(300) + ":1";
        sendReply(tooLong, "{\"status\":\"ok\",\"output\":{}}");
        String recorded = tooLong.substring(0, 254) + "\u2026";
        await().atMost(Duration.ofSeconds(10)).until(() -> !query("SELECT 1 FROM ignored_replies WHERE correlation_id = ?", recorded).isEmpty());
        // and one PostgreSQL cannot store as sent (U+0000), with U+FFFD in its place (the diff reviewer's test)
        String marker = "f-nul-" + UUID.randomUUID();
        sendReply(marker + "\u0000x:1", "{\"status\":\"ok\",\"output\":{}}");
        await().atMost(Duration.ofSeconds(10)).until(() -> !query("SELECT 1 FROM ignored_replies WHERE correlation_id = ?",
                marker + "\uFFFDx:1").isEmpty());
        assertThat(ReplyRoutes.recordable("a\ud800b")).isEqualTo("a\uFFFDb");
        // cut short without splitting a pair: 253 letters and an emoji would leave half of it at the cut
        assertThat(ReplyRoutes.recordable("x".repeat(253) + "\uD83D\uDE00" + "y".repeat(10))).isEqualTo("x".repeat(253) + "\u2026");
    }

    /**
     * A reply that is not JSON, or (sent as bytes) not UTF-8, fails its attempt naming why. Before, bytes that were not
     * UTF-8 completed the step with {"name": "caf\uFFFD"}, while the same bytes posted over HTTP got a 400.
     */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.CsvSource(delimiter = '|', value = {
            "malformed | agent replied with malformed JSON: ",
            "latin1    | agent reply is not UTF-8 text: byte 0xe9 at offset 40 (bodies are UTF-8 JSON text)"})
    void anUnreadableReplyFailsItsAttemptWhichIsThenRetried(String mode, String error) {
        String executionId = awaitExecution(sendEvent("F_REPLIES", "{\"mode\":\"" + mode + "\"}"), "completed");

        List<Map<String, Object>> attempts = attempts(executionId, "answer");
        assertThat(attempts).extracting(r -> r.get("attempt"), r -> r.get("status"))
                .containsExactly(tuple(1, "failed"), tuple(2, "completed"));
        assertThat(attempts.get(0).get("error").toString()).startsWith(error);
        assertThat(requests(agents, executionId, "answer")).hasSize(2);
    }

    private static List<Map<String, Object>> ignoredReplies(String executionId) {
        return query("SELECT correlation_id, step_id, reason FROM ignored_replies WHERE execution_id = ?", executionId);
    }

    /**
     * x's reply skips b and, through the fan-in, starts c, all inside one transaction. Killed before
     * it committed, the message comes back (after a broker restart, without the redelivered flag),
     * finds x completed and walks on from x: through b, skipped already, to c, whose request died with
     * the first delivery and is sent again because this message started its attempt. Any other
     * message walking the same way re-sends nothing.
     */
    @Test
    void aReplayWalksThroughAStepItSkippedToTheStepItStartedAndResendsItsRequest() {
        String eventId = sendEvent("F_SKIP_REPLAY", "{}");
        await().atMost(Duration.ofSeconds(20)).until(() -> executionOf(eventId) != null && agents.received("c").stream()
                .anyMatch(r -> r.request().path("execution_id").asText().equals(executionOf(eventId))));
        String executionId = executionOf(eventId);
        assertThat(stepStatuses(executionId)).containsEntry("b", "skipped").containsEntry("c", "running");
        String startedBy = (String) query("SELECT dispatched_by FROM workflow_step_executions WHERE execution_id = ? AND step_id = 'c'",
                executionId).get(0).get("dispatched_by");
        assertThat(startedBy).as("the reply of x started c").isNotBlank();

        org.apache.camel.ProducerTemplate producer = shared().camelContext().createProducerTemplate();
        Map<String, Object> headers = new java.util.HashMap<>(Map.of("executionId", executionId, "workflowId", "f_skip_replay",
                "causeMessageId", "ID:some-other-message"));
        try {
            producer.sendBodyAndHeaders(Endpoints.done("f_skip_replay", "x"), null, headers);
            assertThat(requestsOfC(executionId)).as("another message re-sends nothing").isEqualTo(1);
            headers.put("causeMessageId", startedBy);
            producer.sendBodyAndHeaders(Endpoints.done("f_skip_replay", "x"), null, headers);
        } finally {
            producer.stop();
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> requestsOfC(executionId) == 2);
        assertThat(stepStatuses(executionId)).containsEntry("b", "skipped").containsEntry("c", "running");
        // done with it: the execution timeout sweep ends it
        new org.springframework.jdbc.core.JdbcTemplate(shared().dataSource())
                .update("UPDATE workflow_executions SET deadline = now() WHERE id = ?", executionId);
    }

    /**
     * As above, when c's reply is recorded (another consumer took it) after the replay read c's row as running and before
     * its request left: the replay sent it all the same, with the message's commit, and the agent got the request of an
     * attempt already completed. The replay now leaves the request to the retry sweep (its lease made due, only while
     * the attempt still runs), which holds the row while it sends: here nothing is made due, and nothing goes.
     */
    @Test
    void aReplayThatReadItsStepRunningBeforeItsReplyWasRecordedDoesNotSendItsRequestAgain() throws Exception {
        String eventId = sendEvent("F_SKIP_REPLAY", "{}");
        await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(50)).until(() -> executionOf(eventId) != null
                && requestsOfC(executionOf(eventId)) == 1);
        String executionId = executionOf(eventId);
        Map<String, Object> c = query("SELECT id, dispatched_by FROM workflow_step_executions WHERE execution_id = ? AND step_id = 'c'"
                + " AND kind = 'step'", executionId).get(0);
        String rowOfC = c.get("id").toString();
        String startedBy = (String) c.get("dispatched_by");
        String correlationId = requests(agents, executionId, "c").get(0).correlationId();
        ReplyAfterTheReplayRead replyAfterRead = new ReplyAfterTheReplayRead("find-step-row", exchange ->
                rowOfC.equals(String.valueOf(exchange.getMessage().getHeader(Headers.ROW_ID)))
                        && startedBy.equals(exchange.getMessage().getHeader(Headers.CAUSE_MESSAGE_ID)),
                correlationId, "{\"status\": \"ok\", \"output\": {}}", rowOfC);
        // the replay reads c running, then goes on once c's reply was recorded: whatever it does next is seen
        replyAfterRead.watchWhile(shared().camelContext(), producer -> producer.sendBodyAndHeaders(
                Endpoints.done("f_skip_replay", "x"), null, new java.util.HashMap<>(Map.of(
                        "executionId", executionId, "workflowId", "f_skip_replay", "causeMessageId", startedBy))));
        assertThat(replyAfterRead.seen.get()).isEqualTo("recorded");
        assertThat(replyAfterRead.afterTheRead).as("the endpoints the replay's exchange went to, or came back from, after it read c running")
                .noneMatch(uri -> uri.contains("agent.f-skipreplay-silent"));
        assertThat(query("SELECT 1 FROM workflow_step_executions WHERE id = ? AND request_due_at IS NOT NULL", c.get("id")))
                .as("c's lease, made due for the retry sweep to send its request").isEmpty();
        awaitExecution(eventId, "completed");
        assertThat(requestsOfC(executionId)).as("requests of c").isEqualTo(1);
    }

    /**
     * The delivery that settled an execution's last step may die before its outcome event leaves,
     * and after a broker restart its replay is not flagged redelivered: a reply found settled
     * publishes the outcome again (the same event_id: stored once, its deliveries counted).
     */
    @Test
    void aReplyFoundSettledPublishesTheExecutionsOutcomeAgain() throws Exception {
        String executionId = awaitExecution(sendEvent("F_REPLIES", "{\"mode\":\"once\"}"), "completed");
        String outcome = executionId + ":completed";
        await().atMost(Duration.ofSeconds(10)).until(() -> outcomeDeliveries(outcome) == 1);
        String lastStep = requests(agents, executionId, "next").get(0).correlationId();

        sendReply(lastStep, "{\"status\": \"ok\", \"output\": {}}");

        await().atMost(Duration.ofSeconds(10)).until(() -> outcomeDeliveries(outcome) == 2);
        assertThat(query("SELECT count(*) AS n FROM agent_events WHERE execution_id = ?", executionId).get(0).get("n"))
                .as("still one outcome event stored").isEqualTo(1L);
        assertThat(executionStatus(executionId)).isEqualTo("completed");
    }

    /**
     * As above, when the execution ended through skipped steps and a fan-in: the join keeps only its
     * own headers, so the end is checked by the replay's first done route, after its walk.
     */
    @Test
    void aReplyFoundSettledPublishesTheOutcomeAgainThroughAFanIn() throws Exception {
        String executionId = awaitExecution(sendEvent("F_SKIP_REPLAY_END", "{}"), "completed");
        assertThat(stepStatuses(executionId)).containsEntry("x", "completed").containsEntry("b", "skipped").containsEntry("f", "skipped");
        String outcome = executionId + ":completed";
        await().atMost(Duration.ofSeconds(10)).until(() -> outcomeDeliveries(outcome) == 1);

        sendReply(requests(agents, executionId, "x").get(0).correlationId(), "{\"status\": \"ok\", \"output\": {\"go\": false}}");

        await().atMost(Duration.ofSeconds(10)).until(() -> outcomeDeliveries(outcome) == 2);
        assertThat(executionStatus(executionId)).isEqualTo("completed");
    }

    private static int outcomeDeliveries(String eventKey) {
        List<Map<String, Object>> rows = query("SELECT deliveries FROM agent_events WHERE event_key = ?", eventKey);
        return rows.isEmpty() ? 0 : ((Number) rows.get(0).get("deliveries")).intValue();
    }

    private static long requestsOfC(String executionId) {
        return agents.received("c").stream().filter(r -> r.request().path("execution_id").asText().equals(executionId)).count();
    }
}
