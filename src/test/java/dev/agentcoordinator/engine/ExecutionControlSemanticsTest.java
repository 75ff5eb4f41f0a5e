package dev.agentcoordinator.engine;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.StreamSupport;

import static dev.agentcoordinator.engine.ExecutionProbe.*;
import static dev.agentcoordinator.engine.ScriptedAgents.Reply;
import static dev.agentcoordinator.engine.TestCoordinator.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;
import static org.awaitility.Awaitility.await;

/** Cancel and retry over HTTP: what they change in PostgreSQL and what the agents see afterwards. */
// Its methods run side by side (@Execution(CONCURRENT), junit-platform.properties): each waits for replies,
// backoffs and sweeps of its own executions; only the cancel's test holds f-cancel-agent's reply (releaseHold).
class ExecutionControlSemanticsTest {
    private static final CountDownLatch releaseHold = new CountDownLatch(1);
    private static ScriptedAgents agents;

    @BeforeAll
    static void agents() throws Exception {
        agents = new ScriptedAgents(shared().connectionFactory())
                .agent("f-cancel-agent", r -> {
                    if ("hold".equals(r.action())) {
                        awaitRelease();
                    }
                    return List.of(Reply.ok(Map.of("ran", r.action())));
                })
                .agent("f-retryapi-agent", r -> "b".equals(r.action())
                        && requests(agents, r.request().path("execution_id").asText(), "b").size() == 1
                        ? List.of(Reply.error("downstream service rejected the request", false))
                        : List.of(Reply.ok(Map.of("ran", r.action()))))
                .agent("f-approval-agent", r -> "ask_a_person".equals(r.action()) ? List.of()   // a person answers, over HTTP
                        : List.of(Reply.ok(Map.of("ran", r.action()))))
                // its hold step answers only its second request: the first is the one a cancel stops
                .agent("f-resume-agent", r -> {
                    int nth = requests(agents, r.request().path("execution_id").asText(), r.action()).size();
                    if ("hold".equals(r.action()) && nth == 1) {
                        return List.of();
                    }
                    if ("flaky".equals(r.action()) && nth == 1) {
                        return List.of(Reply.error("upstream busy", true));   // its next attempt waits a minute
                    }
                    return List.of(Reply.ok(Map.of("ran", r.action())));
                })
                // book: an error reply 6 s after its request (the test cancels meanwhile: 2 s were too few at a load of 20),
                // then it says it is done after all
                .agent("f-cutoff-agent", r -> "book".equals(r.action())
                        ? List.of(Reply.error("the booking service is slow", true).after(6000), Reply.ok(Map.of("done", "book")).after(6300))
                        : List.of(Reply.ok(Map.of("done", r.action()))))
                .agent("f-retrybudget-agent", r -> List.of(Reply.error("rate limited", true)))
                .agent("f-retryoutcome-agent", r -> List.of(Reply.error("the customer record is locked", false)))
                .agent("f-retrytimeout-agent", r -> "slow".equals(r.action())
                        && requests(agents, r.request().path("execution_id").asText(), "slow").size() == 1
                        ? List.of(Reply.ok(Map.of("ran", "slow")).after(4000))
                        : List.of(Reply.ok(Map.of("ran", r.action()))));
    }

    /** Starts an execution on {@code trigger} and waits until the agent has the request of {@code step}; its id. */
    private static String startedUntil(String trigger, String step) {
        String eventId = sendEvent(trigger, "{}");
        await().atMost(Duration.ofSeconds(20)).until(() -> executionOf(eventId) != null
                && requests(agents, executionOf(eventId), step).size() == 1);
        return executionOf(eventId);
    }

    /** The agent holds its reply until the test lets it go (at most 20 s, so a failed test cannot hang). */
    private static void awaitRelease() {
        try {
            releaseHold.await(20, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @AfterAll
    static void stop() throws Exception {
        releaseHold.countDown();
        agents.close();
    }

    /**
     * POST /api/executions/cancel: a workflow's running executions, oldest first, a page at a time ("more" says others
     * are left), or those named, each cancelled as its own cancel would; what was not cancelled is said, with why.
     */
    @Test
    @Execution(ExecutionMode.CONCURRENT)
    void manyExecutionsAreCancelledInOneCall() {
        List<String> started = new java.util.ArrayList<>();
        for (int i = 0; i < 3; i++) {   // one after another: oldest first is their order
            String eventId = sendEvent("F_BULK_CANCEL", "{}");
            await().atMost(Duration.ofSeconds(20)).until(() -> executionOf(eventId) != null
                    && "running".equals(executionStatus(executionOf(eventId))));
            started.add(executionOf(eventId));
        }

        JsonNode first = Json.parse(post("/api/executions/cancel", "{\"workflow_id\": \"f_bulk_cancel\", \"limit\": 2}").body());
        assertThat(first.path("cancelled").findValuesAsText("execution_id")).containsExactly(started.get(0), started.get(1));
        assertThat(first.path("cancelled").findValuesAsText("status")).containsOnly("cancelled");
        assertThat(first.path("more").asBoolean()).isTrue();
        JsonNode second = Json.parse(post("/api/executions/cancel", "{\"workflow_id\": \"f_bulk_cancel\", \"version\": 1}").body());
        assertThat(second.path("cancelled").findValuesAsText("execution_id")).containsExactly(started.get(2));
        assertThat(second.path("more").asBoolean()).isFalse();
        assertThat(second.has("warning")).as("a loaded workflow with nothing left running").isFalse();
        started.forEach(id -> assertThat(executionStatus(id)).isEqualTo("cancelled"));
        // a workflow no definition has is named, with what it may stand for: not answered as one with nothing to cancel
        JsonNode misspelt = Json.parse(post("/api/executions/cancel", "{\"workflow_id\": \"f_bulk_cancell\"}").body());
        assertThat(misspelt.path("cancelled")).isEmpty();
        assertThat(misspelt.path("warning").asText()).isEqualTo("no loaded workflow has the id \"f_bulk_cancell\": did you mean \"f_bulk_cancel\"?");
        assertThat(stepRow(started.get(2), "wait")).containsEntry("error", "execution cancelled by request");

        HttpResponse<String> named = post("/api/executions/cancel", "{\"execution_ids\": [\"" + started.get(0) + "\", \"no-such-execution\"]}");
        assertThat(named.statusCode()).isEqualTo(200);
        JsonNode notCancelled = Json.parse(named.body()).path("not_cancelled");
        assertThat(Json.parse(named.body()).path("cancelled")).isEmpty();
        assertThat(notCancelled.findValuesAsText("execution_id")).containsExactly(started.get(0), "no-such-execution");
        assertThat(notCancelled.findValuesAsText("error")).containsExactly("execution " + started.get(0) + " is cancelled, not running",
                "no execution no-such-execution");
        assertThat(notCancelled.findValues("status_code")).extracting(JsonNode::asInt).containsExactly(409, 404);

        for (String wrong : List.of("{}", "[]", "{\"workflow_id\": \"f_bulk_cancel\", \"execution_ids\": [\"x\"]}",
                "{\"workflow_id\": \"f_bulk_cancel\", \"limit\": 1001}", "{\"execution_ids\": []}",
                "{\"execution_ids\": [\"x\"], \"limit\": 5}", "{\"workflow_id\": \"f_bulk_cancel\", \"statuss\": \"running\"}",
                "{\"workflow_id\": \"f\\u0000\"}", "{\"execution_ids\": [\"x\\u0000\"]}")) {   // U+0000 failed in PostgreSQL: a 500
            HttpResponse<String> refused = post("/api/executions/cancel", wrong);
            assertThat(refused.statusCode()).as(wrong).isEqualTo(400);
            assertThat(Json.parse(refused.body()).path("error").asText()).as(wrong).isNotBlank();
        }
    }

    @Test
    @Execution(ExecutionMode.CONCURRENT)
    void cancellingARunningExecutionSettlesItsStepsAndIgnoresTheLateReply() {
        String executionId = startedUntil("F_CANCEL", "hold");
        ExecutionFactsCache facts = shared().camelContext().getRegistry()
                .lookupByNameAndType(ExecutionFactsCache.REGISTRY_NAME, ExecutionFactsCache.class);
        assertThat(facts.holds(executionId)).as("cached while it runs").isTrue();

        HttpResponse<String> cancelled = post("/api/executions/" + executionId + "/cancel", null);
        assertThat(cancelled.statusCode()).isEqualTo(200);
        assertThat(Json.parse(cancelled.body()).path("status").asText()).isEqualTo("cancelled");
        assertThat(executionStatus(executionId)).isEqualTo("cancelled");
        // the contract's step statuses: the step that was running failed, with the cancel as its error
        assertThat(stepStatuses(executionId)).containsExactlyInAnyOrderEntriesOf(Map.of("hold", "failed", "after", "skipped"));
        assertThat(stepRow(executionId, "hold")).containsEntry("error", "execution cancelled by request");
        // its cached facts go with it, as a finished execution's do: they stayed until the cache's budget pushed them out
        await().atMost(Duration.ofSeconds(10)).until(() -> !facts.holds(executionId));
        // onFailure lists the step the cancel failed, as every other way of sending the event would
        await().atMost(Duration.ofSeconds(10)).until(() -> !query("SELECT 1 FROM agent_events WHERE type = 'F_CANCEL_ENDED' "
                + "AND payload->>'execution_id' = ?", executionId).isEmpty());
        assertThat(query("SELECT f->>'step_id' AS step, f->>'status' AS status, f->>'error' AS error FROM agent_events,"
                + " jsonb_array_elements(payload->'failures') f WHERE type = 'F_CANCEL_ENDED' AND payload->>'execution_id' = ?", executionId))
                .extracting(r -> r.get("step"), r -> r.get("status"), r -> r.get("error"))
                .containsExactly(tuple("hold", "failed", "execution cancelled by request"));
        // and the execution's result, as the spec's persistExecutionComplete: every step's StepResult
        assertThat(query("SELECT result->'hold'->>'status' AS hold, result->'after'->>'status' AS after FROM workflow_executions WHERE id = ?",
                executionId)).containsExactly(Map.of("hold", "failed", "after", "skipped"));
        assertThat(attempts(executionId, "hold")).extracting(r -> r.get("attempt"), r -> r.get("status"))
                .containsExactly(tuple(1, "failed"));

        releaseHold.countDown();
        await().atMost(Duration.ofSeconds(10)).until(() -> !query("SELECT 1 FROM ignored_replies WHERE execution_id = ? AND step_id = 'hold' "
                + "AND reason LIKE '%cancelled%'", executionId).isEmpty());
        assertThat(stepStatuses(executionId)).containsEntry("hold", "failed");
        assertThat(executionStatus(executionId)).isEqualTo("cancelled");
        assertThat(requests(agents, executionId, "after")).isEmpty();

        HttpResponse<String> again = post("/api/executions/" + executionId + "/cancel", null);
        assertThat(again.statusCode()).isEqualTo(409);
        assertThat(Json.parse(again.body()).path("error").asText()).isEqualTo("execution " + executionId + " is cancelled, not running");
        HttpResponse<String> unknown = post("/api/executions/no-such-execution/cancel", null);
        assertThat(unknown.statusCode()).isEqualTo(404);
        assertThat(Json.parse(unknown.body()).path("error").asText()).isEqualTo("no execution no-such-execution");

        HttpResponse<String> view = get("/api/executions/" + executionId);
        assertThat(view.statusCode()).isEqualTo(200);
        JsonNode execution = Json.parse(view.body());
        assertThat(execution.path("status").asText()).isEqualTo("cancelled");
        Map<String, String> steps = new HashMap<>();
        execution.path("steps").forEach(s -> steps.put(s.path("step_id").asText(), s.path("status").asText()));
        assertThat(steps).containsExactlyInAnyOrderEntriesOf(Map.of("hold", "failed", "after", "skipped"));
        Map<String, Integer> attempts = new HashMap<>();
        execution.path("steps").forEach(s -> attempts.put(s.path("step_id").asText(), s.path("attempts").size()));
        assertThat(attempts).containsExactlyInAnyOrderEntriesOf(Map.of("hold", 1, "after", 0));
    }

    /** A reply's JMS properties named as the engine's headers do not reach the next step's request. */
    @Test
    @Execution(ExecutionMode.CONCURRENT)
    void aReplysPropertiesDoNotReachTheNextRequest() throws Exception {
        String executionId = startedUntil("F_HTTP_REPLY", "approve");
        String correlationId = requests(agents, executionId, "approve").get(0).correlationId();
        sendReply(correlationId, "{\"status\": \"ok\", \"output\": {\"approved\": true}}",
                Map.of("progress", "{\"injected\": true}", "requestContext", "{\"injected\": true}"));

        await().atMost(Duration.ofSeconds(20)).until(() -> "completed".equals(executionStatus(executionId)));
        assertThat(requests(agents, executionId, "after")).singleElement()
                .satisfies(r -> assertThat(r.request().toString()).doesNotContain("injected"));
    }

    /** Nor do an event's JMS properties reach the requests of the roots that start with its execution. */
    @Test
    @Execution(ExecutionMode.CONCURRENT)
    void anEventsPropertiesDoNotReachTheRootRequests() throws Exception {
        String eventId = java.util.UUID.randomUUID().toString();
        try (jakarta.jms.Connection connection = shared().connectionFactory().createConnection()) {
            jakarta.jms.Session session = connection.createSession(false, jakarta.jms.Session.AUTO_ACKNOWLEDGE);
            jakarta.jms.TextMessage event = session.createTextMessage("{\"type\":\"F_HTTP_REPLY\",\"event_id\":\"" + eventId + "\",\"payload\":{}}");
            event.setStringProperty("progress", "{\"injected\": true}");
            event.setStringProperty("requestContext", "{\"injected\": true}");
            session.createProducer(session.createQueue("agent.events")).send(event);
        }
        await().atMost(Duration.ofSeconds(20)).until(() -> executionOf(eventId) != null
                && requests(agents, executionOf(eventId), "approve").size() == 1);
        assertThat(requests(agents, executionOf(eventId), "approve").get(0).request().toString()).doesNotContain("injected");
        post("/api/executions/" + executionOf(eventId) + "/cancel", null);
    }

    /**
     * A step answered over HTTP before any agent took its request: the request is taken off the agent's queue, so that
     * an agent that comes later does not do what is recorded as done. A heartbeat posted so leaves it there.
     */
    @Test
    @Execution(ExecutionMode.CONCURRENT)
    void aStepAnsweredOverHttpHasItsQueuedRequestTakenBack() throws Exception {
        String executionId = awaitExecution(sendEvent("F_HTTP_REPLY_UNHEARD", "{}"), "running");
        await().atMost(Duration.ofSeconds(20)).until(() -> queuedRequests(executionId) == 1);
        String path = "/api/executions/" + executionId + "/steps/approve/reply";
        assertThat(post(path, "{\"status\": \"running\"}").statusCode()).isEqualTo(202);
        HttpResponse<String> answered = post(path, "{\"status\": \"ok\", \"output\": {\"approved\": true}}");
        assertThat(answered.statusCode()).isEqualTo(202);
        // which attempt, and which run of a loop's step (0 outside a loop), the reply settles
        assertThat(Json.parse(answered.body()).path("attempt").asInt()).isEqualTo(1);
        assertThat(Json.parse(answered.body()).path("iteration").isInt()).isTrue();
        await().atMost(Duration.ofSeconds(20)).until(() -> "completed".equals(executionStatus(executionId)));
        await().atMost(Duration.ofSeconds(10)).until(() -> queuedRequests(executionId) == 0);
    }

    /** The requests of one execution that wait on agent.f-unheard-approver, where no agent listens. */
    private static int queuedRequests(String executionId) throws Exception {
        try (jakarta.jms.Connection connection = shared().connectionFactory().createConnection()) {
            connection.start();
            jakarta.jms.Session session = connection.createSession(false, jakarta.jms.Session.AUTO_ACKNOWLEDGE);
            int found = 0;
            for (var messages = session.createBrowser(session.createQueue("agent.f-unheard-approver")).getEnumeration();
                 messages.hasMoreElements(); ) {
                if (((jakarta.jms.TextMessage) messages.nextElement()).getText().contains(executionId)) {
                    found++;
                }
            }
            return found;
        }
    }

    @Test
    @Execution(ExecutionMode.CONCURRENT)
    void aStepReplyPostedOverHttpSettlesTheAttemptInFlightAsItsAgentsReplyWould() {
        String executionId = startedUntil("F_HTTP_REPLY", "approve");
        String path = "/api/executions/" + executionId + "/steps/approve/reply";

        HttpResponse<String> notAReply = post(path, "{\"approved\": true}");
        assertThat(notAReply.statusCode()).isEqualTo(400);
        assertThat(Json.parse(notAReply.body()).path("error").asText()).contains("\"status\": \"ok\"").endsWith(": it has no \"status\"");
        assertThat(Json.parse(post(path, "{\"status\": \"maybe\"}").body()).path("error").asText()).endsWith(": its \"status\" is \"maybe\"");
        assertThat(post(path, "not json").statusCode()).isEqualTo(400);
        // what PostgreSQL cannot store is refused here, not accepted and then failed as the attempt's reply
        HttpResponse<String> nul = post(path, "{\"status\": \"ok\", \"output\": {\"by\": \"o\\u0000ps\"}}");
        assertThat(nul.statusCode()).isEqualTo(400);
        assertThat(Json.parse(nul.body()).path("error").asText()).contains("U+0000");
        HttpResponse<String> noStep = post("/api/executions/" + executionId + "/steps/nope/reply", "{\"status\": \"ok\"}");
        assertThat(noStep.statusCode()).isEqualTo(404);
        assertThat(Json.parse(noStep.body()).path("error").asText()).isEqualTo("execution " + executionId + " has no step nope");
        assertThat(post("/api/executions/no-such-execution/steps/approve/reply", "{\"status\": \"ok\"}").statusCode()).isEqualTo(404);
        HttpResponse<String> unreadable = post(path, "{\"status\": \"error\", \"error\": \"x\", \"retryable\": \"no\"}");
        assertThat(unreadable.statusCode()).isEqualTo(400);
        assertThat(Json.parse(unreadable.body()).path("error").asText()).isEqualTo("\"retryable\" is true or false (left out: true), got \"no\"");
        HttpResponse<String> notYet = post("/api/executions/" + executionId + "/steps/after/reply", "{\"status\": \"ok\"}");
        assertThat(notYet.statusCode()).isEqualTo(409);
        assertThat(Json.parse(notYet.body()).path("error").asText())
                .isEqualTo("step after of execution " + executionId + " is pending, not waiting for a reply");
        // why it has not started is in its view, as a lock wait is
        JsonNode pending = StreamSupport.stream(Json.parse(get("/api/executions/" + executionId).body()).path("steps").spliterator(), false)
                .filter(step -> "after".equals(step.path("step_id").asText())).findFirst().orElseThrow();
        assertThat(pending.path("waiting_for").asText()).isEqualTo("dependencies approve to settle");

        // a heartbeat over HTTP counts as its agent's would, under its workflow and step
        io.micrometer.core.instrument.MeterRegistry meters = shared().camelContext().getRegistry()
                .lookupByNameAndType(dev.agentcoordinator.ops.Operations.METER_REGISTRY, io.micrometer.core.instrument.MeterRegistry.class);
        assertThat(post(path, "{\"status\": \"running\", \"progress\": {\"asked\": \"ops\"}}").statusCode()).isEqualTo(202);
        await().atMost(Duration.ofSeconds(10)).until(() -> meters.find("coordinator_heartbeats")
                .tags("workflow", "f_http_reply", "step", "approve", "outcome", "extended").counter() != null);
        assertThat(query("SELECT progress->>'asked' AS asked FROM workflow_step_executions WHERE execution_id = ? AND step_id = 'approve'",
                executionId)).containsExactly(Map.of("asked", "ops"));

        HttpResponse<String> accepted = post(path, "{\"status\": \"ok\", \"output\": {\"approved\": true, \"by\": \"ops\"}, \"note\": \"by hand\"}");
        assertThat(accepted.statusCode()).isEqualTo(202);
        assertThat(Json.parse(accepted.body()).path("attempt").asInt()).isEqualTo(1);
        // a field a reply does not have is accepted, and named (an "outputs" would leave the output empty)
        assertThat(Json.parse(accepted.body()).path("warning").asText()).isEqualTo("reply field \"note\" is ignored (a reply has"
                + " \"status\", \"output\", \"error\", \"retryable\", \"signals\", \"shared_memory\" and \"progress\")");

        await().atMost(Duration.ofSeconds(20)).until(() -> "completed".equals(executionStatus(executionId)));
        assertThat(stepRow(executionId, "approve").get("output").toString()).contains("\"by\": \"ops\"");
        assertThat(requests(agents, executionId, "after")).singleElement()
                .satisfies(r -> assertThat(r.input().path("approved").asBoolean()).isTrue());
        assertThat(post(path, "{\"status\": \"ok\"}").statusCode()).isEqualTo(409);
    }

    /**
     * Signals or shared memory of another shape in a reply posted over HTTP are refused, naming what is wrong: queued,
     * the reply route would drop them (a WARN in the coordinator's log only) and settle the step without them.
     */
    @Test
    @Execution(ExecutionMode.CONCURRENT)
    void aStepReplyPostedOverHttpWithSignalsOrSharedMemoryOfAnotherShapeIsRefused() {
        String executionId = startedUntil("F_HTTP_REPLY", "approve");
        String path = "/api/executions/" + executionId + "/steps/approve/reply";

        HttpResponse<String> signalsObject = post(path, "{\"status\": \"ok\", \"output\": {\"approved\": true}, \"signals\": {\"x\": 1}}");
        assertThat(signalsObject.statusCode()).isEqualTo(400);
        assertThat(Json.parse(signalsObject.body()).path("error").asText()).isEqualTo("the step reply would lose what it carries:"
                + " \"signals\" is an object, not a list (\"signals\" is a list of {\"signal_type\", \"data\"}, \"shared_memory\" an object)");
        HttpResponse<String> typeForSignalType = post(path, "{\"status\": \"error\", \"error\": \"no\", \"signals\": [{\"type\": \"X\"}],"
                + " \"shared_memory\": \"k\"}");
        assertThat(typeForSignalType.statusCode()).isEqualTo(400);
        assertThat(Json.parse(typeForSignalType.body()).path("error").asText())
                .contains("\"shared_memory\" is a string, not an object; signals[0] has no \"signal_type\" string (it has \"type\")");

        // nothing was queued: the attempt still waits, and takes the reply sent again corrected
        assertThat(post(path, "{\"status\": \"ok\", \"output\": {\"approved\": true}, \"signals\": [{\"signal_type\": \"X\"}]}")
                .statusCode()).isEqualTo(202);
        await().atMost(Duration.ofSeconds(30)).until(() -> "completed".equals(executionStatus(executionId)));
        assertThat(query("SELECT signal_type FROM execution_signals WHERE execution_id = ?", executionId))
                .containsExactly(Map.of("signal_type", "X"));
    }

    /**
     * A step in flight when its execution is cancelled has its compensation held for its reply (V47): an error reply
     * releases it with nothing to undo, and a success its agent reports after that is not one more reply that merely
     * came after a cancel (an INFO line): it names work left in place, in a WARN.
     */
    @Test
    @Execution(ExecutionMode.CONCURRENT)
    void aStepReportedDoneAfterItsErrorReleasedItsHeldUndoIsNamedAsNotUndone() throws Exception {
        CapturedLog progress = CapturedLog.of(Endpoints.PROGRESS_LOG);
        String executionId = startedUntil("F_CUT_OFF_UNDO", "cut_off_booking");
        HttpResponse<String> cancelled = post("/api/executions/" + executionId + "/cancel", null);
        assertThat(cancelled.statusCode()).isEqualTo(200);
        assertThat(Json.parse(cancelled.body()).path("status").asText()).isEqualTo("compensating");

        await().atMost(Duration.ofSeconds(20)).until(() -> "compensated".equals(executionStatus(executionId)));
        assertThat(requests(agents, executionId, "reserve")).extracting(ScriptedAgents.Received::action).containsExactly("reserve", "release");
        assertThat(query("SELECT status FROM workflow_step_executions WHERE execution_id = ? AND step_id = 'cut_off_booking'"
                + " AND kind = 'compensation'", executionId)).extracting(row -> row.get("status")).containsExactly("skipped");
        await().atMost(Duration.ofSeconds(10)).until(() -> query("SELECT 1 FROM ignored_replies WHERE execution_id = ?", executionId).size() == 1);
        // the error reply released the undo (an INFO line of its own); the success after it is a WARN
        try (progress) {
            await().atMost(Duration.ofSeconds(10)).until(() -> progress.lines().stream()
                    .anyMatch(line -> line.contains("of step cut_off_booking") && line.contains("it is not undone")));
            assertThat(progress.lines()).contains("INFO step cut_off_booking: its agent reports attempt 1 not done after the cancel;"
                    + " nothing of it to undo [execution " + executionId + "]");
            assertThat(progress.lines()).filteredOn(line -> line.contains("reply ignored") && line.contains("of step cut_off_booking"))
                    .extracting(line -> line.substring(0, line.indexOf(' ')))
                    .containsExactly("WARN");
        }
        assertThat(query("SELECT step_id, reason FROM ignored_replies WHERE execution_id = ? AND reason LIKE '%not undone%'", executionId))
                .singleElement().satisfies(row -> {
                    assertThat(row).containsEntry("step_id", "cut_off_booking");
                    assertThat((String) row.get("reason")).contains("(execution cancelled by request); its agent reports it done,"
                            + " and it is not undone: its compensation no longer waited for a reply");
                    // its time as every time the coordinator writes (six fraction digits)
                    assertThat((String) row.get("reason")).containsPattern("it reached the broker at \\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{6}Z\\)");
                });
        assertThat(requests(agents, executionId, "cut_off_booking")).extracting(ScriptedAgents.Received::action).containsExactly("book");
    }

    /** A person doing a step's undo answers its compensation over HTTP, as they would the step: it was a 409 ("completed"). */
    @Test
    @Execution(ExecutionMode.CONCURRENT)
    void aReplyPostedForAStepBeingUndoneSettlesItsCompensation() throws Exception {
        String eventId = sendEvent("F_HTTP_UNDO", "{}");
        await().atMost(Duration.ofSeconds(20)).until(() -> executionOf(eventId) != null);
        String executionId = executionOf(eventId);
        await().atMost(Duration.ofSeconds(20)).until(() -> queuedRequests(executionId) == 1);
        assertThat(executionStatus(executionId)).isEqualTo("compensating");

        HttpResponse<String> failedStep = post("/api/executions/" + executionId + "/steps/ship/reply", "{\"status\": \"ok\"}");
        assertThat(failedStep.statusCode()).isEqualTo(409);
        assertThat(Json.parse(failedStep.body()).path("error").asText())
                .isEqualTo("step ship of execution " + executionId + " is failed, not waiting for a reply");
        // the saga unwinds in reverse: charge's undo waits for pack's, and says so
        JsonNode chargeUndo = StreamSupport.stream(Json.parse(get("/api/executions/" + executionId).body()).path("compensations")
                .spliterator(), false).filter(c -> "charge".equals(c.path("step_id").asText())).findFirst().orElseThrow();
        assertThat(chargeUndo.path("waiting_for").asText()).isEqualTo("compensations of pack to settle");
        assertThat(post("/api/executions/" + executionId + "/steps/pack/reply", "{\"status\": \"ok\"}").statusCode()).isEqualTo(202);
        await().atMost(Duration.ofSeconds(20)).until(() -> query("SELECT 1 FROM workflow_step_executions WHERE execution_id = ?"
                + " AND kind = 'compensation' AND step_id = 'charge' AND status = 'running'", executionId).size() == 1);

        String path = "/api/executions/" + executionId + "/steps/charge/reply";
        assertThat(post(path, "{\"status\": \"running\"}").statusCode()).isEqualTo(202);
        HttpResponse<String> undone = post(path, "{\"status\": \"ok\", \"output\": {\"refunded\": true, \"by\": \"dana\"}}");
        assertThat(undone.statusCode()).isEqualTo(202);
        assertThat(Json.parse(undone.body()).path("kind").asText()).isEqualTo("compensation");
        assertThat(Json.parse(undone.body()).path("attempt").asInt()).isEqualTo(1);

        await().atMost(Duration.ofSeconds(20)).until(() -> "compensated".equals(executionStatus(executionId)));
        assertThat(query("SELECT output->>'by' AS by FROM workflow_step_executions WHERE execution_id = ? AND kind = 'compensation'"
                + " AND step_id = 'charge'", executionId)).containsExactly(Map.of("by", "dana"));
        // answered here: its request, which no agent took, is not for one to do any more
        await().atMost(Duration.ofSeconds(10)).until(() -> queuedRequests(executionId) == 0);
        HttpResponse<String> again = post(path, "{\"status\": \"ok\"}");
        assertThat(again.statusCode()).isEqualTo(409);
        assertThat(Json.parse(again.body()).path("error").asText()).isEqualTo("step charge of execution " + executionId
                + " is completed and its compensation is completed, not waiting for a reply");
    }

    @Test
    @Execution(ExecutionMode.CONCURRENT)
    void retryingAFailedExecutionRerunsOnlyItsFailedAndSkippedSteps() {
        String executionId = awaitExecution(sendEvent("F_RETRY_API", "{}"), "failed");
        assertThat(stepStatuses(executionId)).containsExactlyInAnyOrderEntriesOf(
                Map.of("a", "completed", "b", "failed", "c", "skipped", "d", "skipped"));

        // query parameters named as the engine's headers change nothing of the requests sent
        HttpResponse<String> retried = post("/api/executions/" + executionId + "/retry"
                + "?progress=%7B%22injected%22%3Atrue%7D&causeMessageId=forged", null);
        assertThat(retried.statusCode()).isEqualTo(202);
        assertThat(Json.parse(retried.body()).path("retried_steps")).extracting(JsonNode::asText).containsExactlyInAnyOrder("b", "c", "d");

        await().atMost(Duration.ofSeconds(20)).until(() -> "completed".equals(executionStatus(executionId)));
        assertThat(stepStatuses(executionId)).containsExactlyInAnyOrderEntriesOf(
                Map.of("a", "completed", "b", "completed", "c", "completed", "d", "completed"));
        assertThat(requests(agents, executionId, "a")).hasSize(1);
        assertThat(requests(agents, executionId, "b")).hasSize(2)
                .allSatisfy(r -> assertThat(r.request().has("progress")).as(r.request().toString()).isFalse());
        assertThat(query("SELECT dispatched_by FROM workflow_step_executions WHERE execution_id = ? AND step_id = 'b'", executionId)
                .get(0).get("dispatched_by")).isNull();
        assertThat(requests(agents, executionId, "c")).hasSize(1);
        assertThat(requests(agents, executionId, "d")).hasSize(1);
        assertThat(attempts(executionId, "b")).extracting(r -> r.get("attempt"), r -> r.get("status"))
                .containsExactly(tuple(1, "failed"), tuple(2, "completed"));
        assertThat(execution(executionId).get("error")).isNull();

        // the attempts over HTTP: the failed one with its error, then the retry's
        JsonNode view = Json.parse(get("/api/executions/" + executionId).body());
        Map<String, JsonNode> steps = new HashMap<>();
        view.path("steps").forEach(step -> steps.put(step.path("step_id").asText(), step));
        assertThat(steps.get("b").path("attempts")).extracting(a -> a.path("attempt").asInt(), a -> a.path("status").asText(),
                        a -> a.path("error").asText(null))
                .containsExactly(tuple(1, "failed", "downstream service rejected the request"), tuple(2, "completed", null));
        assertThat(steps.get("b").path("attempts").get(1).path("started_at").asText())
                .isEqualTo(steps.get("b").path("started_at").asText());
        assertThat(steps.get("a").path("attempts")).extracting(a -> a.path("status").asText()).containsExactly("completed");

        HttpResponse<String> completed = post("/api/executions/" + executionId + "/retry", null);
        assertThat(completed.statusCode()).isEqualTo(409);
        assertThat(Json.parse(completed.body()).path("error").asText())
                .isEqualTo("execution " + executionId + " is neither failed nor cancelled (completed)");
        assertThat(post("/api/executions/no-such-execution/retry", null).statusCode()).isEqualTo(404);
    }

    /** As Conductor retries a terminated workflow: a cancelled execution goes on from where the cancel stopped it. */
    @Test
    @Execution(ExecutionMode.CONCURRENT)
    void retryingACancelledExecutionRunsWhatTheCancelStoppedAndKeepsWhatCompleted() {
        String executionId = startedUntil("F_RESUME", "hold");
        assertThat(post("/api/executions/" + executionId + "/cancel", null).statusCode()).isEqualTo(200);
        assertThat(stepStatuses(executionId)).containsExactlyInAnyOrderEntriesOf(
                Map.of("first", "completed", "hold", "failed", "after", "skipped"));

        HttpResponse<String> retried = post("/api/executions/" + executionId + "/retry", null);
        assertThat(retried.statusCode()).as(retried.body()).isEqualTo(202);
        assertThat(Json.parse(retried.body()).path("retried_steps")).extracting(JsonNode::asText)
                .containsExactlyInAnyOrder("hold", "after");

        await().atMost(Duration.ofSeconds(20)).until(() -> "completed".equals(executionStatus(executionId)));
        assertThat(requests(agents, executionId, "first")).hasSize(1);
        assertThat(requests(agents, executionId, "hold")).hasSize(2);
        assertThat(requests(agents, executionId, "after")).hasSize(1);
        assertThat(attempts(executionId, "hold")).extracting(r -> r.get("attempt"), r -> r.get("status"))
                .containsExactly(tuple(1, "failed"), tuple(2, "completed"));
        assertThat(execution(executionId)).containsEntry("retries", 1).containsEntry("error", null);
        // the cancel's onFailure, then the retry's onSuccess
        await().atMost(Duration.ofSeconds(10)).until(() -> !query("SELECT 1 FROM agent_events WHERE type = 'F_RESUME_DONE' "
                + "AND payload->>'execution_id' = ?", executionId).isEmpty());
        assertThat(query("SELECT payload->>'status' AS status FROM agent_events WHERE type = 'F_RESUME_ENDED' AND payload->>'execution_id' = ?",
                executionId)).extracting(r -> r.get("status")).containsExactly("cancelled");
    }

    /** A cancel while a step waits for its next attempt fails it; the execution's retry runs it at once, anew. */
    @Test
    @Execution(ExecutionMode.CONCURRENT)
    void retryingAnExecutionCancelledDuringABackoffRunsTheStepAgain() {
        String eventId = sendEvent("F_RESUME_BACKOFF", "{}");
        await().atMost(Duration.ofSeconds(20)).until(() -> executionOf(eventId) != null && !query("SELECT 1 FROM"
                + " workflow_step_executions WHERE execution_id = ? AND step_id = 'flaky' AND next_attempt_at IS NOT NULL",
                executionOf(eventId)).isEmpty());
        String executionId = executionOf(eventId);
        assertThat(post("/api/executions/" + executionId + "/cancel", null).statusCode()).isEqualTo(200);
        assertThat(stepStatuses(executionId)).containsExactlyInAnyOrderEntriesOf(Map.of("flaky", "failed", "after", "skipped"));

        HttpResponse<String> retried = post("/api/executions/" + executionId + "/retry", null);
        assertThat(retried.statusCode()).as(retried.body()).isEqualTo(202);
        await().atMost(Duration.ofSeconds(20)).until(() -> "completed".equals(executionStatus(executionId)));
        assertThat(attempts(executionId, "flaky")).extracting(r -> r.get("attempt"), r -> r.get("status"))
                .containsExactly(tuple(1, "failed"), tuple(2, "completed"));
        assertThat(requests(agents, executionId, "after")).hasSize(1);
    }

    /** An execution that failed with every step completed (its timeout passed as the last completed) has nothing to retry. */
    @Test
    @Execution(ExecutionMode.CONCURRENT)
    void aFailedExecutionWithNothingFailedOrSkippedIsNotReopenedByARetry() {
        String executionId = awaitExecution(sendEvent("F_RETRY_API", "{}"), "failed");
        query("UPDATE workflow_step_executions SET status = 'completed', error = NULL WHERE execution_id = ? RETURNING id", executionId);

        HttpResponse<String> refused = post("/api/executions/" + executionId + "/retry", null);
        assertThat(refused.statusCode()).isEqualTo(409);
        assertThat(Json.parse(refused.body()).path("error").asText()).isEqualTo("execution " + executionId
                + " has no failed or skipped step to run again (it failed as its last step completed)");
        assertThat(execution(executionId)).containsEntry("status", "failed").containsEntry("retries", 0);
    }

    /**
     * CONTRACT.md section 3: a step row is pending, running, completed, failed or skipped. PostgreSQL
     * refuses any other, and stores what an earlier release still writes (a rolling upgrade) as this one does.
     */
    @Test
    @Execution(ExecutionMode.CONCURRENT)
    void stepRowsTakeOnlyTheContractsStatuses() {
        String executionId = awaitExecution(sendEvent("F_RETRY_API", "{}"), "failed");
        String setStatus = "UPDATE workflow_step_executions SET status = ? WHERE execution_id = ? AND step_id = 'b' RETURNING status";
        assertThatThrownBy(() -> query(setStatus, "paused", executionId)).hasMessageContaining("step_status_in_contract");
        assertThat(query(setStatus, "retrying", executionId)).extracting(r -> r.get("status")).containsExactly("pending");
        assertThat(query(setStatus, "cancelled", executionId)).extracting(r -> r.get("status")).containsExactly("failed");
        assertThat(query("SELECT DISTINCT status FROM workflow_step_executions")).extracting(r -> r.get("status"))
                .isSubsetOf("pending", "running", "completed", "failed", "skipped");
    }

    /** Each failure of the execution is an outcome of its own: the one after a retry is published too, not taken for a duplicate. */
    @Test
    @Execution(ExecutionMode.CONCURRENT)
    void aRetriedExecutionThatFailsAgainPublishesItsFailureAgain() {
        String executionId = awaitExecution(sendEvent("F_RETRY_OUTCOME", "{}"), "failed");
        await().atMost(Duration.ofSeconds(10)).until(() -> failureEvents(executionId).size() == 1);

        assertThat(post("/api/executions/" + executionId + "/retry", null).statusCode()).isEqualTo(202);
        await().atMost(Duration.ofSeconds(20)).until(() -> attempts(executionId, "refused").size() == 2
                && "failed".equals(executionStatus(executionId)));
        await().atMost(Duration.ofSeconds(10)).until(() -> failureEvents(executionId).size() == 2);
        assertThat(failureEvents(executionId)).extracting(r -> r.get("event_key"))
                .containsExactly(executionId + ":failed", executionId + ":failed:1");
        assertThat(failureEvents(executionId)).extracting(r -> r.get("failures").toString())
                .allSatisfy(f -> assertThat(f).contains("the customer record is locked"));
        // its times in UTC with Z, as the API writes them
        JsonNode failure = Json.parse(failureEvents(executionId).get(0).get("failures").toString()).get(0);
        assertThat(failure.path("completed_at").asText()).endsWith("Z");
        assertThat(java.time.Instant.parse(failure.path("completed_at").asText())).isBeforeOrEqualTo(java.time.Instant.now());
        assertThat(Json.parse(get("/api/executions/" + executionId).body()).path("retries").asInt()).isEqualTo(1);
    }

    /**
     * A failure's outcome event carries the retries of when the execution settled: published after a
     * retry already made the execution run again, it is the first failure's (a duplicate here), not the
     * retry's, whose own failure would otherwise be taken for its duplicate.
     */
    @Test
    @Execution(ExecutionMode.CONCURRENT)
    void aFailurePublishedAfterTheExecutionWasRetriedKeepsItsOwnEventId() throws Exception {
        String executionId = awaitExecution(sendEvent("F_RETRY_OUTCOME", "{}"), "failed");
        await().atMost(Duration.ofSeconds(10)).until(() -> failureEvents(executionId).size() == 1);
        String failures = failureEvents(executionId).get(0).get("failures").toString();
        // as if the retry committed between the settling statement and the publication of its outcome
        query("UPDATE workflow_executions SET status = 'running', retries = 1 WHERE id = ? RETURNING id", executionId);

        org.apache.camel.ProducerTemplate producer = shared().camelContext().createProducerTemplate();
        try {
            producer.sendBodyAndHeaders(Endpoints.PUBLISH_OUTCOME, null, Map.of(Headers.EXECUTION_ID, executionId,
                    Headers.STATUS, "failed", Headers.WORKFLOW_ID, "f_retry_outcome", Headers.ROUTE_KEY, "f_retry_outcome",
                    "results", "{}", "failures", failures));
        } finally {
            producer.stop();
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> query("SELECT deliveries FROM agent_events WHERE event_key = ?",
                executionId + ":failed").stream().anyMatch(r -> ((Number) r.get("deliveries")).intValue() >= 2));
        assertThat(failureEvents(executionId)).extracting(r -> r.get("event_key")).containsExactly(executionId + ":failed");
        query("UPDATE workflow_executions SET status = 'failed', retries = 0 WHERE id = ? RETURNING id", executionId);
    }

    /**
     * An outcome event is numbered from the execution's retries when it is published: a retry, and a second failure
     * or cancel, between an outcome and its publication gave the two outcomes one event id (the second went to the DLQ
     * as a reuse, the first was never sent under its own). A retry waits until the outcome before it is sent.
     */
    @Test
    @Execution(ExecutionMode.CONCURRENT)
    void aRetryWaitsUntilTheOutcomeEventBeforeItIsSent() {
        String executionId = awaitExecution(sendEvent("F_RETRY_OUTCOME", "{}"), "failed");
        await().atMost(Duration.ofSeconds(10)).until(() -> failureEvents(executionId).size() == 1);
        // as if the broker had refused the event: still in the outbox
        query("INSERT INTO outcome_outbox (execution_id, status) VALUES (?, 'failed') RETURNING execution_id", executionId);

        HttpResponse<String> refused = post("/api/executions/" + executionId + "/retry", null);
        assertThat(refused.statusCode()).isEqualTo(409);
        assertThat(Json.parse(refused.body()).path("error").asText())
                .contains("has not yet published its failed outcome event").contains("retry it once that event is sent");
        assertThat(executionStatus(executionId)).isEqualTo("failed");

        query("DELETE FROM outcome_outbox WHERE execution_id = ? RETURNING execution_id", executionId);
        assertThat(post("/api/executions/" + executionId + "/retry", null).statusCode()).isEqualTo(202);
        await().atMost(Duration.ofSeconds(20)).until(() -> failureEvents(executionId).size() == 2);
        assertThat(failureEvents(executionId)).extracting(r -> r.get("event_key"))
                .containsExactly(executionId + ":failed", executionId + ":failed:1");
    }

    private static JsonNode stepView(String executionId, String stepId) {
        for (JsonNode step : Json.parse(get("/api/executions/" + executionId).body()).path("steps")) {
            if (step.path("step_id").asText().equals(stepId)) {
                return step;
            }
        }
        throw new AssertionError("no step " + stepId + " in the view of execution " + executionId);
    }

    private static List<Map<String, Object>> failureEvents(String executionId) {
        return query("SELECT event_key, payload->'failures' AS failures FROM agent_events WHERE type = 'F_RETRY_OUTCOME_FAILED' "
                + "AND payload->>'execution_id' = ? ORDER BY received_at", executionId);
    }

    @Test
    @Execution(ExecutionMode.CONCURRENT)
    void aRetryWhoseDispatchFailedIsAcceptedAndTheSweepRunsItsStepsLater() {
        String executionId = awaitExecution(sendEvent("F_RETRY_API", "{}"), "failed");
        HttpResponse<String> retried;
        try (RefusedTransition refused = RefusedTransition.of(executionId, "step", "running")) {
            retried = post("/api/executions/" + executionId + "/retry", null);
            assertThat(refused.refusals()).isEqualTo(1);
        }
        // the reset is committed (a second retry would be refused: not failed), so the retry is accepted
        assertThat(retried.statusCode()).isEqualTo(202);
        assertThat(Json.parse(retried.body()).path("retried_steps")).extracting(JsonNode::asText).containsExactlyInAnyOrder("b", "c", "d");
        assertThat(requests(agents, executionId, "b")).hasSize(1);
        // nothing else would move it before its timeout: the stalled-execution sweep does (after 50
        // periods, 2.5 s at the tests' period)
        await().atMost(Duration.ofSeconds(30)).until(() -> "completed".equals(executionStatus(executionId)));
        assertThat(requests(agents, executionId, "b")).hasSize(2);
        assertThat(stepStatuses(executionId)).containsExactlyInAnyOrderEntriesOf(
                Map.of("a", "completed", "b", "completed", "c", "completed", "d", "completed"));
    }

    /** A retry of the execution gives the step a new budget of attempts, and its backoff starts again from the base. */
    @Test
    @Execution(ExecutionMode.CONCURRENT)
    void aStepRetriedAgainAfterARetryOfItsExecutionBacksOffFromTheBaseAgain() {
        String executionId = awaitExecution(sendEvent("F_RETRY_BUDGET", "{}"), "failed");
        assertThat(attempts(executionId, "flaky")).extracting(r -> r.get("attempt")).containsExactly(1, 2);

        assertThat(post("/api/executions/" + executionId + "/retry", null).statusCode()).isEqualTo(202);
        await().atMost(Duration.ofSeconds(20)).until(() -> attempts(executionId, "flaky").size() == 3
                && waitingForNextAttempt(executionId, "flaky"));
        JsonNode waiting = stepView(executionId, "flaky");
        assertThat(waiting.path("status").asText()).isEqualTo("pending");
        assertThat(waiting.path("next_attempt_at").isTextual()).isTrue();
        // both set by the statement that failed attempt 3: the wait before attempt 4 is the base, as before attempt 2
        Number backoffMs = (Number) query("SELECT (EXTRACT(EPOCH FROM next_attempt_at - updated_at) * 1000)::bigint AS ms"
                + " FROM workflow_step_executions WHERE execution_id = ? AND step_id = 'flaky'", executionId).get(0).get("ms");
        assertThat(backoffMs.longValue()).isEqualTo(1500);

        await().atMost(Duration.ofSeconds(20)).until(() -> "failed".equals(executionStatus(executionId)));
        assertThat(attempts(executionId, "flaky")).extracting(r -> r.get("attempt")).containsExactly(1, 2, 3, 4);
    }

    @Test
    @Execution(ExecutionMode.CONCURRENT)
    void retryingAnExecutionThatTimedOutRerunsTheStepsTheTimeoutSettled() {
        String executionId = awaitExecution(sendEvent("F_RETRY_TIMEOUT", "{}"), "failed");
        assertThat(execution(executionId).get("error").toString()).contains("workflow timed out");
        assertThat(stepStatuses(executionId)).containsExactlyInAnyOrderEntriesOf(Map.of("slow", "failed", "after", "skipped", "last", "skipped"));

        assertThat(post("/api/executions/" + executionId + "/retry", null).statusCode()).isEqualTo(202);

        await().atMost(Duration.ofSeconds(20)).until(() -> !"running".equals(executionStatus(executionId)));
        assertThat(executionStatus(executionId)).isEqualTo("completed");
        assertThat(stepStatuses(executionId)).containsExactlyInAnyOrderEntriesOf(Map.of("slow", "completed", "after", "completed", "last", "completed"));
        assertThat(attempts(executionId, "slow")).extracting(r -> r.get("attempt"), r -> r.get("status"))
                .containsExactly(tuple(1, "timed_out"), tuple(2, "completed"));
        // the first run's reply, 4 s late, answers attempt 1: recorded, not applied (the re-run is attempt 2)
        await().atMost(Duration.ofSeconds(10)).until(() -> !query("SELECT 1 FROM ignored_replies WHERE execution_id = ? "
                + "AND correlation_id LIKE '%:1@%'", executionId).isEmpty());
        assertThat(stepRow(executionId, "slow")).containsEntry("attempt", 2);
    }
}
