package dev.agentcoordinator.api;

import com.fasterxml.jackson.databind.JsonNode;
import dev.agentcoordinator.RunningCoordinator;
import dev.agentcoordinator.engine.Json;
import dev.agentcoordinator.infra.BrokerManagement;
import dev.agentcoordinator.infra.EmbeddedBroker;
import dev.agentcoordinator.infra.FreePort;
import dev.agentcoordinator.infra.Messaging;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static dev.agentcoordinator.api.BlockedSendsFixture.coordinatorOn;
import static dev.agentcoordinator.api.BlockedSendsFixture.get;
import static dev.agentcoordinator.api.BlockedSendsFixture.post;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * While the broker blocks producers (here an address full under address-full-policy BLOCK, its max-size-bytes tiny and
 * a message left on it, which withholds the producer credits as a disk past max-disk-usage does), the API's calls
 * other than POST /api/events that send to it answer within their bound: a step reply and an agent message 503 saying
 * the broker blocks sends, a cancel (single and bulk) and a retry, committed, with a warning that what follows waits
 * for the broker. Before, each got no answer (the Artemis client waits for credits without end) until the HTTP client
 * gave up, holding an HTTP worker thread all along.
 */
class CallsThatSendWhileTheBrokerBlocksSendsTest {
    private static final String INTERVIEW = "{\"type\": \"INTERVIEW_COMPLETED\", \"payload\": {\"interview_id\": \"i-1\", \"user_id\": \"u-1\"}}";
    /** More than the 1 KiB a full address holds here. */
    private static final String FILLER = "x".repeat(2048);
    /** The send's bound (coordinator.health.timeout-ms, 1 s here) and the rest, with room for a busy machine. */
    private static final Duration ANSWERED = Duration.ofSeconds(10);

    @TempDir
    Path folder;
    private EmbeddedBroker broker;
    private RunningCoordinator coordinator;
    private BrokerManagement management;
    private String api;

    /** Each test a broker and a coordinator of its own: each fills an address its way. */
    @org.junit.jupiter.api.BeforeEach
    void startBrokerAndCoordinator() throws Exception {
        broker = new EmbeddedBroker(FreePort.on("127.0.0.1"), folder.resolve("broker"));
        String brokerUrl = broker.start();
        coordinator = start(brokerUrl);
        management = BrokerManagement.open(Messaging.connectionFactory(brokerUrl, "", ""), 5000);
        api = coordinator.httpUrl();
    }

    @org.junit.jupiter.api.AfterEach
    void stopThem() throws Exception {
        try (EmbeddedBroker stoppedLast = broker; RunningCoordinator stopped = coordinator; BrokerManagement closed = management) {
            // closed in reverse: management, coordinator, then the broker
        }
    }

    @Test
    void aStepReplyAnswers503WhileTheBrokerBlocksItsSend() throws Exception {
        String execution = executionOf(api, post(api + "/api/events", INTERVIEW).body());
        awaitStep(api, execution, "running");
        String reply = api + "/api/executions/" + execution + "/steps/analyze_interview/reply";

        coordinator.camelContext().getRouteController().stopRoute(dev.agentcoordinator.engine.ReplyRoutes.ROUTE_ID);
        fullUnderBlock(management, coordinator.settings().replyQueue());
        assertThat(post(reply, "{\"status\": \"running\", \"progress\": {\"note\": \"" + FILLER + "\"}}").statusCode())
                .isEqualTo(202);   // it fills the queue
        HttpResponse<String> heartbeat = answeredInTime(reply, "{\"status\": \"running\"}");
        assertThat(heartbeat.statusCode()).as(heartbeat.body()).isEqualTo(503);
        assertThat(heartbeat.headers().firstValue("Retry-After")).hasValue("5");
        assertThat(Json.parse(heartbeat.body()).path("error").asText()).startsWith("the broker blocks sends: ").endsWith("not sent");
        // the API's other calls still answer: the refused send holds no HTTP thread
        assertThat(get(api + "/api/executions/" + execution + "?outputs=false").statusCode()).isEqualTo(200);

        coordinator.camelContext().getRouteController().startRoute(dev.agentcoordinator.engine.ReplyRoutes.ROUTE_ID);
        assertThat(post(reply, "{\"status\": \"ok\", \"output\": {\"analysis\": {}}}").statusCode()).isEqualTo(202);
        awaitStep(api, execution, "completed");
    }

    @Test
    void aPostedMessageAnswers503WithItsMessageIdWhileTheBrokerBlocksItsDelivery() throws Exception {
        String message = "{\"from\": \"a-sender\", \"to\": \"blocked-receiver\", \"type\": \"HELLO\", \"payload\": {}}";
        fullUnderBlock(management, "agent.blocked-receiver");
        assertThat(post(api + "/api/messages", message.replace("{}", "{\"note\": \"" + FILLER + "\"}")).statusCode())
                .isEqualTo(202);   // it fills the queue
        HttpResponse<String> refused = answeredInTime(api + "/api/messages", message);
        assertThat(refused.statusCode()).as(refused.body()).isEqualTo(503);
        assertThat(refused.headers().firstValue("Retry-After")).hasValue("5");
        assertThat(Json.parse(refused.body()).path("error").asText()).startsWith("the broker blocks sends: ").endsWith("not sent");
        String messageId = Json.parse(refused.body()).path("message_id").asText();
        assertThat(messageId).isNotEmpty();
        assertThat(Json.parse(get(api + "/api/messages/" + messageId).body()).path("status").asText()).isEqualTo("pending");

        // the queue emptied (the message refused was not sent), the broker takes sends again
        assertThat(management.invoke("queue.agent.blocked-receiver", "removeAllMessages")).hasValueSatisfying(a -> assertThat(a.succeeded()).isTrue());
        // posted again with its message_id, the message refused is delivered
        assertThat(post(api + "/api/messages", message.replace("{\"from\"", "{\"message_id\": \"" + messageId + "\", \"from\""))
                .statusCode()).isEqualTo(202);
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100)).until(() ->
                "delivered".equals(Json.parse(get(api + "/api/messages/" + messageId).body()).path("status").asText()));
    }

    @Test
    void cancelsAnswerInTimeWhileTheBrokerBlocksTheirOutcomeEvents() throws Exception {
        String one = executionOf(api, post(api + "/api/events", INTERVIEW).body());
        String two = executionOf(api, post(api + "/api/events", INTERVIEW).body());
        String three = executionOf(api, post(api + "/api/events", INTERVIEW).body());
        for (String execution : new String[] {one, two, three}) {
            awaitStep(api, execution, "running");
        }

        // a cancel's outcome event (onFailure: INTERVIEW_WORKFLOW_FAILED) goes to agent.events
        coordinator.camelContext().getRouteController().stopRoute("coordinator.events");
        fullUnderBlock(management, "agent.events");
        assertThat(post(api + "/api/events", "{\"type\": \"NOTHING_STARTS\", \"payload\": {\"note\": \"" + FILLER + "\"}}")
                .statusCode()).isEqualTo(202);   // it fills agent.events
        HttpResponse<String> cancelled = answeredInTime(api + "/api/executions/" + one + "/cancel", "");
        assertThat(cancelled.statusCode()).as(cancelled.body()).isEqualTo(200);
        assertThat(Json.parse(cancelled.body()).path("status").asText()).isEqualTo("cancelled");
        assertThat(Json.parse(cancelled.body()).path("warning").asText()).startsWith("the broker blocks sends: ")
                .contains("the cancel is done");
        HttpResponse<String> bulk = answeredInTime(api + "/api/executions/cancel",
                "{\"execution_ids\": [\"" + two + "\", \"" + three + "\"]}");
        assertThat(bulk.statusCode()).as(bulk.body()).isEqualTo(200);
        JsonNode bulkCancelled = Json.parse(bulk.body()).path("cancelled");
        assertThat(bulkCancelled).as(bulk.body()).hasSize(2);
        bulkCancelled.forEach(each -> assertThat(each.path("warning").asText()).as(bulk.body()).startsWith("the broker blocks sends: "));

        coordinator.camelContext().getRouteController().startRoute("coordinator.events");
        // the outcome events follow (the cancel's own send, left waiting, or the outbox sweep)
        for (String execution : new String[] {one, two, three}) {
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200))
                    .until(() -> get(api + "/api/events/" + execution + ":cancelled").statusCode() == 200);
        }
    }

    @Test
    void aRetryAnswersInTimeWhileTheBrokerBlocksItsStepsRequests() throws Exception {
        String execution = executionOf(api, post(api + "/api/events", INTERVIEW).body());
        awaitStep(api, execution, "running");
        assertThat(post(api + "/api/executions/" + execution + "/cancel", "").statusCode()).isEqualTo(200);
        // its outcome event sent (a retry waits for it), its request taken back off agent.interviewer by then
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200))
                .until(() -> get(api + "/api/events/" + execution + ":cancelled").statusCode() == 200);

        // a retry sends the cut-off step's request to agent.interviewer
        fullUnderBlock(management, "agent.interviewer");
        // it fills agent.interviewer (a 503 when the cancelled attempt's request was still there and had filled it)
        assertThat(answeredInTime(api + "/api/messages", "{\"from\": \"a-sender\", \"to\": \"interviewer\", \"type\": \"FILLER\","
                + " \"payload\": {\"note\": \"" + FILLER + "\"}}").statusCode()).isIn(202, 503);
        Instant retried = Instant.now();
        List<HttpResponse<String>> retry = new ArrayList<>();
        // 409 until the cancel's outcome event is marked sent
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200)).until(() -> {
            retry.add(0, answeredInTime(api + "/api/executions/" + execution + "/retry", ""));
            return retry.get(0).statusCode() != 409;
        });
        assertThat(retry.get(0).statusCode()).as(retry.get(0).body()).isEqualTo(202);
        assertThat(Json.parse(retry.get(0).body()).path("warning").asText()).startsWith("the broker blocks sends: ")
                .contains("the retry is done");
        assertThat(get(api + "/api/executions/" + execution + "?outputs=false").statusCode()).isEqualTo(200);

        // the queue emptied, the broker takes the request
        assertThat(management.invoke("queue.agent.interviewer", "removeAllMessages")).hasValueSatisfying(a -> assertThat(a.succeeded()).isTrue());
        // the retried step's request leaves once the broker takes it
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200)).until(() -> {
            JsonNode step = step(api, execution, "analyze_interview");
            return "running".equals(step.path("status").asText()) && Instant.parse(step.path("started_at").asText()).isAfter(retried);
        });
    }

    /** Until the execution's first step has that status. */
    private static void awaitStep(String api, String execution, String status) {
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100)).ignoreExceptions()
                .until(() -> status.equals(step(api, execution, "analyze_interview").path("status").asText()));
    }

    private RunningCoordinator start(String brokerUrl) throws Exception {
        // a producer window smaller than any message: each send waits for credits the broker grants it then
        return coordinatorOn(brokerUrl, 64, folder, Map.of("supervisor.period-ms", "100"));
    }

    /** The address blocks producers once it holds more than 1 KiB: the filler posted next fills it. */
    private static void fullUnderBlock(BrokerManagement management, String address) throws Exception {
        assertThat(management.invoke("broker", "addAddressSettings", address,
                "{\"maxSizeBytes\": 1024, \"pageSizeBytes\": 1024, \"addressFullMessagePolicy\": \"BLOCK\"}"))
                .hasValueSatisfying(a -> assertThat(a.succeeded()).as(String.valueOf(a.result())).isTrue());
    }

    /** The step of that id of the execution, as GET /api/executions/{id} shows it. */
    private static JsonNode step(String api, String execution, String stepId) throws Exception {
        for (JsonNode step : Json.parse(get(api + "/api/executions/" + execution + "?outputs=false").body()).path("steps")) {
            if (stepId.equals(step.path("step_id").asText())) {
                return step;
            }
        }
        return Json.object();
    }

    /** The execution the event of this POST /api/events answer started, once the coordinator took it. */
    private static String executionOf(String api, String accepted) {
        String eventId = Json.parse(accepted).path("event_id").asText();
        String[] execution = new String[1];
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100)).ignoreExceptions().until(() -> {
            execution[0] = Json.parse(get(api + "/api/events/" + eventId).body()).path("execution_id").asText(null);
            return execution[0] != null;
        });
        return execution[0];
    }

    /** A POST answered within {@link #ANSWERED}: before, the client's wait ran out (20 s). */
    private static HttpResponse<String> answeredInTime(String url, String body) throws Exception {
        long asked = System.nanoTime();
        HttpResponse<String> answer = post(url, body);
        assertThat(Duration.ofNanos(System.nanoTime() - asked)).as(url).isLessThan(ANSWERED);
        return answer;
    }
}
