package dev.agentcoordinator.engine;

import dev.agentcoordinator.agent.AgentReply;
import dev.agentcoordinator.agent.AgentService;
import com.fasterxml.jackson.databind.JsonNode;
import jakarta.jms.Connection;
import jakarta.jms.DeliveryMode;
import jakarta.jms.Message;
import jakarta.jms.MessageConsumer;
import jakarta.jms.Session;
import jakarta.jms.TemporaryQueue;
import jakarta.jms.TextMessage;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;
import org.junit.jupiter.api.parallel.ResourceLock;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import static dev.agentcoordinator.engine.ExecutionProbe.*;
import static dev.agentcoordinator.engine.ScriptedAgents.Reply;
import static dev.agentcoordinator.engine.TestCoordinator.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;
import static org.awaitility.Awaitility.await;

/**
 * An agent that takes longer than its step's timeout_ms keeps its attempt in time with heartbeats
 * ({"status": "running"}); the same work without them times out.
 */
// Its methods run side by side (@Execution(CONCURRENT), junit-platform.properties): each waits seconds for
// replies, heartbeats and timeouts of its own executions; the two that use the one consumer of
// f-heartbeat-stop-agent take turns.
class HeartbeatTest {
    // the steps' timeout is 3,000 ms: the first heartbeat, 200-400 ms after the agent takes the request, comes in
    // time on a loaded machine however late the request is dispatched after started_at, and the work outlasts it twice
    private static final int REPLY_AFTER_MS = 6_000;
    private static ScriptedAgents agents;
    private static AgentService sdkAgent;
    private static AgentService stoppableAgent;
    private static AgentService undoneAgent;
    /** Executions whose handler of f-heartbeat-stop-agent was interrupted. */
    private static final Set<String> WORK_INTERRUPTED = ConcurrentHashMap.newKeySet();

    @BeforeAll
    static void agents() throws Exception {
        agents = new ScriptedAgents(shared().connectionFactory())
                .agent("f-heartbeat-agent", r -> {
                    if (!"work".equals(r.action())) {
                        return List.of(Reply.ok(Map.of("ran", r.action())));
                    }
                    List<Reply> replies = new ArrayList<>();
                    if ("beat".equals(r.input().path("mode").asText())) {
                        for (int at = 250; at < REPLY_AFTER_MS; at += 250) {
                            replies.add(Reply.heartbeat().after(at));
                        }
                    }
                    replies.add(Reply.ok(Map.of("worked_ms", REPLY_AFTER_MS)).after(REPLY_AFTER_MS));
                    return replies;
                })
                .agent("f-heartbeat-progress-agent", r -> r.request().path("attempt").asInt() == 1
                        // reports how far it got, beats once more without news, then goes silent and times out
                        ? List.of(new Reply(200, "{\"status\": \"running\", \"progress\": {\"pages_done\": 40}}", null),
                                  Reply.heartbeat().after(400))
                        : List.of(Reply.ok(Map.of("resumed_from", r.request().path("progress")))))
                .agent("f-error-progress-agent", r -> r.request().path("attempt").asInt() == 1
                        // fails, saying in its error reply how far it got
                        ? List.of(new Reply(200, "{\"status\": \"error\", \"error\": \"upstream went away\", \"retryable\": true,"
                                + " \"progress\": {\"pages_done\": 40}}", null))
                        : List.of(Reply.ok(Map.of("resumed_from", r.request().path("progress")))));
        sdkAgent = AgentService.builder(shared().connectionFactory(), "f-heartbeat-sdk-agent")
                .heartbeatEvery(Duration.ofMillis(250))
                .handle("work", request -> {
                    Thread.sleep(REPLY_AFTER_MS);
                    return AgentReply.ok(Map.of("worked_ms", REPLY_AFTER_MS));
                })
                .start();
        stoppableAgent = AgentService.builder(shared().connectionFactory(), "f-heartbeat-stop-agent")
                .concurrency(1)
                .heartbeatEvery(Duration.ofMillis(200))
                .handle("work", request -> {
                    if ("quick".equals(request.inputString("mode"))) {
                        return AgentReply.ok(Map.of("quick", true));
                    }
                    try {
                        Thread.sleep(60_000);
                    } catch (InterruptedException e) {
                        WORK_INTERRUPTED.add(request.executionId());
                        throw e;
                    }
                    return AgentReply.ok(Map.of("worked_ms", 60_000));
                })
                .start();
        // interrupted by a stop, it reports the part of the work that cannot be taken back
        undoneAgent = AgentService.builder(shared().connectionFactory(), "f-heartbeat-undo-agent")
                .heartbeatEvery(Duration.ofMillis(200))
                .handle("charge", request -> {
                    try {
                        Thread.sleep(60_000);
                        return AgentReply.ok(Map.of("charged", 100));
                    } catch (InterruptedException e) {
                        return AgentReply.ok(Map.of("charged", 40));
                    }
                })
                .start();
    }

    @AfterAll
    static void stop() throws Exception {
        agents.close();
        sdkAgent.close();
        stoppableAgent.close();
        undoneAgent.close();
    }

    @Test
    @Execution(ExecutionMode.CONCURRENT)
    void heartbeatsMoveTheAttemptsDeadlineSoTheLongAttemptCompletes() {
        String eventId = sendEvent("F_HEARTBEAT", "{\"mode\":\"beat\"}");
        // while it works, the deadline moves on past the 3,000 ms its attempt started with
        await().atMost(Duration.ofSeconds(20)).until(() -> !query("SELECT 1 FROM workflow_step_executions s"
                + " JOIN workflow_executions e ON e.id = s.execution_id WHERE e.trigger_event_key = ? AND s.step_id = 'work'"
                + " AND s.status = 'running' AND s.deadline > s.started_at + interval '4500 milliseconds'", eventId).isEmpty());
        // and the step's lock, taken for 3,000 ms, is renewed with it
        await().atMost(Duration.ofSeconds(10)).until(() -> !query("SELECT 1 FROM resource_locks l JOIN workflow_executions e"
                + " ON e.id = l.execution_id WHERE e.trigger_event_key = ? AND l.step_id = 'work'"
                + " AND l.expires_at > l.locked_at + interval '4500 milliseconds'", eventId).isEmpty());
        String executionId = awaitExecution(eventId, "completed");

        assertThat(attempts(executionId, "work")).extracting(r -> r.get("attempt"), r -> r.get("status"))
                .containsExactly(tuple(1, "completed"));
        assertThat(query("SELECT 1 FROM resource_locks WHERE execution_id = ?", executionId)).isEmpty();
        assertThat(requests(agents, executionId, "work")).hasSize(1);
        assertThat(requests(agents, executionId, "after")).hasSize(1);
        assertThat(query("SELECT 1 FROM ignored_replies WHERE execution_id = ?", executionId)).isEmpty();
    }

    @Test
    @Execution(ExecutionMode.CONCURRENT)
    void theAgentSdksHeartbeatsKeepAHandlerThatOutlastsTheTimeoutInTime() {
        String executionId = awaitExecution(sendEvent("F_HEARTBEAT_SDK", "{}"), "completed");

        assertThat(attempts(executionId, "work")).extracting(r -> r.get("attempt"), r -> r.get("status"))
                .containsExactly(tuple(1, "completed"));
        assertThat(stepRow(executionId, "work").get("output").toString()).contains("\"worked_ms\": " + REPLY_AFTER_MS);
    }

    // one consumer: its next request waits for the work it runs
    @ResourceLock("f-heartbeat-stop-agent")
    @Test
    @Execution(ExecutionMode.CONCURRENT)
    void cancellingTheExecutionStopsTheAgentsWorkAtItsNextHeartbeat() {
        String eventId = sendEvent("F_HEARTBEAT_STOP", "{\"mode\":\"long\"}");
        await().atMost(Duration.ofSeconds(20)).until(() -> executionOf(eventId) != null
                && "running".equals(stepStatuses(executionOf(eventId)).get("work")));
        String executionId = executionOf(eventId);

        assertThat(post("/api/executions/" + executionId + "/cancel", null).statusCode()).isEqualTo(200);

        // the next heartbeat finds the attempt cancelled: the coordinator answers it with a stop, the SDK interrupts the handler
        await().atMost(Duration.ofSeconds(10)).until(() -> WORK_INTERRUPTED.contains(executionId));
        // one consumer: the next request runs once the stopped one is consumed, and no reply of it came
        awaitExecution(sendEvent("F_HEARTBEAT_STOP", "{\"mode\":\"quick\"}"), "completed");
        assertThat(query("SELECT 1 FROM ignored_replies WHERE execution_id = ?", executionId)).isEmpty();
        assertThat(stepStatuses(executionId)).containsEntry("work", "failed");
    }

    /**
     * A cancel cuts off an SDK agent's work on a step that declares a compensation: the stop asks for its reply all the
     * same ({@code "reply_wanted"}), the handler reports what it did, and that is undone long before the attempt's deadline.
     */
    @Test
    @Execution(ExecutionMode.CONCURRENT)
    void anSdkAgentCutOffByACancelReportsWhatItDidAndThatIsUndone() {
        String eventId = sendEvent("F_HEARTBEAT_UNDO", "{}");
        // working: it has sent a heartbeat (its deadline moved)
        await().atMost(Duration.ofSeconds(20)).until(() -> executionOf(eventId) != null
                && !query("SELECT 1 FROM workflow_step_executions WHERE execution_id = ? AND step_id = 'charge' AND kind = 'step'"
                        + " AND status = 'running' AND deadline > started_at + interval '30 seconds'", executionOf(eventId)).isEmpty());
        String executionId = executionOf(eventId);

        assertThat(post("/api/executions/" + executionId + "/cancel", null).body()).contains("compensating");

        await().atMost(Duration.ofSeconds(15)).until(() -> "compensated".equals(execution(executionId).get("status")));
        assertThat(requests(agents, executionId, "charge")).extracting(r -> r.action(), r -> r.input().path("charged").asInt())
                .containsExactly(tuple("refund", 40));
        assertThat(query("SELECT 1 FROM ignored_replies WHERE execution_id = ?", executionId)).isEmpty();
    }

    // one consumer: its next request waits for the work it runs
    @ResourceLock("f-heartbeat-stop-agent")
    @Test
    @Execution(ExecutionMode.CONCURRENT)
    void theWorkflowsTimeoutStillEndsAnAttemptKeptAliveByHeartbeatsAndTheAgentIsToldToStop() {
        String executionId = awaitExecution(sendEvent("F_HEARTBEAT_WORKFLOW_TIMEOUT", "{\"mode\":\"long\"}"), "failed");

        assertThat(execution(executionId).get("error").toString()).startsWith("workflow timed out after 5000 ms");
        await().atMost(Duration.ofSeconds(10)).until(() -> WORK_INTERRUPTED.contains(executionId));
        assertThat(stepRow(executionId, "work")).containsEntry("status", "failed");
    }

    @Test
    @Execution(ExecutionMode.CONCURRENT)
    void aHeartbeatForAnAttemptNoLongerInFlightIsAnsweredWithAStopThatSaysWhy() throws Exception {
        String executionId = awaitExecution(sendEvent("F_HEARTBEAT", "{\"mode\":\"unanswered\"}"), "failed");
        String correlationId = requests(agents, executionId, "work").get(0).correlationId();

        try (Connection connection = shared().connectionFactory().createConnection()) {
            Session session = connection.createSession(false, Session.AUTO_ACKNOWLEDGE);
            TemporaryQueue stops = session.createTemporaryQueue();
            MessageConsumer answers = session.createConsumer(stops);
            connection.start();
            TextMessage heartbeat = session.createTextMessage("{\"status\": \"running\"}");
            heartbeat.setJMSCorrelationID(correlationId);
            heartbeat.setJMSReplyTo(stops);
            session.createProducer(session.createQueue(shared().settings().replyQueue())).send(heartbeat);

            Message answer = answers.receive(10_000);
            assertThat(answer).as("the coordinator's answer to the heartbeat").isNotNull();
            assertThat(answer.getJMSCorrelationID()).isEqualTo(correlationId);
            assertThat(answer.getJMSDeliveryMode()).isEqualTo(DeliveryMode.NON_PERSISTENT);
            JsonNode stop = Json.parse(((TextMessage) answer).getText());
            assertThat(stop.path("status").asText()).isEqualTo("stop");
            assertThat(stop.path("execution_id").asText()).isEqualTo(executionId);
            assertThat(stop.path("step_id").asText()).isEqualTo("work");
            assertThat(stop.path("attempt").asInt()).isEqualTo(1);
            assertThat(stop.path("reason").asText()).startsWith("attempt 1 of step work is failed: ").contains("timed out");
        }
        // it changed nothing and is not an ignored reply
        assertThat(attempts(executionId, "work")).extracting(r -> r.get("status")).containsExactly("timed_out");
    }

    @Test
    @Execution(ExecutionMode.CONCURRENT)
    void aRetryIsSentTheProgressItsTimedOutAttemptReportedInHeartbeats() {
        String executionId = awaitExecution(sendEvent("F_HEARTBEAT_PROGRESS", "{}"), "completed");

        assertThat(attempts(executionId, "work")).extracting(r -> r.get("attempt"), r -> r.get("status"))
                .containsExactly(tuple(1, "timed_out"), tuple(2, "completed"));
        List<ScriptedAgents.Received> requests = requests(agents, executionId, "work");
        assertThat(requests.get(0).request().has("progress")).isFalse();
        assertThat(requests.get(1).request().path("progress").path("pages_done").asInt()).isEqualTo(40);
        assertThat(stepRow(executionId, "work").get("output").toString()).contains("\"resumed_from\": {\"pages_done\": 40}");
        JsonNode step = Json.parse(get("/api/executions/" + executionId).body()).path("steps").get(0);
        assertThat(step.path("progress").path("pages_done").asInt()).isEqualTo(40);
    }

    /** As an SDK agent's error reply carries it: before, only a heartbeat's progress counted, and that one could come late. */
    @Test
    @Execution(ExecutionMode.CONCURRENT)
    void aRetryIsSentTheProgressItsFailedAttemptsErrorReplyCarried() {
        String executionId = awaitExecution(sendEvent("F_ERROR_PROGRESS", "{}"), "completed");

        assertThat(attempts(executionId, "work")).extracting(r -> r.get("attempt"), r -> r.get("status"))
                .containsExactly(tuple(1, "failed"), tuple(2, "completed"));
        List<ScriptedAgents.Received> requests = requests(agents, executionId, "work");
        assertThat(requests.get(1).request().path("progress").path("pages_done").asInt()).isEqualTo(40);
        JsonNode step = Json.parse(get("/api/executions/" + executionId).body()).path("steps").get(0);
        assertThat(step.path("progress").path("pages_done").asInt()).isEqualTo(40);
    }

    @Test
    @Execution(ExecutionMode.CONCURRENT)
    void aRetryOfTheFailedExecutionResumesTheStepFromItsProgressToo() {
        String executionId = awaitExecution(sendEvent("F_HEARTBEAT_PROGRESS_RETRY", "{}"), "failed");
        assertThat(attempts(executionId, "work")).extracting(r -> r.get("status")).containsExactly("timed_out");

        assertThat(post("/api/executions/" + executionId + "/retry", null).statusCode()).isEqualTo(202);

        await().atMost(Duration.ofSeconds(20)).until(() -> "completed".equals(executionStatus(executionId)));
        List<ScriptedAgents.Received> requests = requests(agents, executionId, "work");
        assertThat(requests).hasSize(2);
        assertThat(requests.get(1).request().path("progress").path("pages_done").asInt()).isEqualTo(40);
    }

    @Test
    @Execution(ExecutionMode.CONCURRENT)
    void withoutHeartbeatsTheSameWorkTimesOutAndItsLateReplyIsIgnored() {
        String executionId = awaitExecution(sendEvent("F_HEARTBEAT", "{\"mode\":\"silent\"}"), "failed");

        assertThat(attempts(executionId, "work")).extracting(r -> r.get("attempt"), r -> r.get("status"))
                .containsExactly(tuple(1, "timed_out"));
        assertThat(stepRow(executionId, "after")).containsEntry("status", "skipped");
        // the reply comes REPLY_AFTER_MS after the request, about 3 s after the timeout
        await().atMost(Duration.ofSeconds(20)).until(() -> !query("SELECT 1 FROM ignored_replies WHERE execution_id = ?"
                + " AND step_id = 'work'", executionId).isEmpty());
    }
}
