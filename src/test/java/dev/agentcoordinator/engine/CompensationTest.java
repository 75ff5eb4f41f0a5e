package dev.agentcoordinator.engine;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;
import org.junit.jupiter.api.parallel.ResourceLock;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static dev.agentcoordinator.engine.ScriptedAgents.Reply;
import static dev.agentcoordinator.engine.TestCoordinator.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** Saga: when an execution fails or is cancelled, completed steps are undone, last first. */
// Its methods run side by side (@Execution(CONCURRENT), junit-platform.properties): they wait for sweeps
// and replies of their own executions; the two with a RefusedTransition take turns (each replaces the one
// trigger function).
class CompensationTest {
    private static ScriptedAgents agents;

    @BeforeAll
    static void agents() throws Exception {
        agents = new ScriptedAgents(shared().connectionFactory()).agent("saga-agent", r -> switch (r.action()) {
            case "reserve" -> List.of(Reply.ok(Map.of("reservation_id", "r-" + r.request().path("execution_id").asText(), "vip", false)));
            case "charge" -> List.of(Reply.ok(Map.of("charge_id", "c-1")));
            // hold: a number, done that many ms later; text, an error with that text 6 s later (after a cancel: 3 s were
            // too few for the test's cancel on a machine at a load average of 15)
            case "ship" -> r.input().path("fail").asBoolean() ? List.of(Reply.error("carrier refused", false))
                    : r.input().path("hold").isNumber() ? List.of(Reply.ok(Map.of("shipped", true,
                            "tracking", "t-" + r.request().path("execution_id").asText())).after(r.input().path("hold").asLong()))
                    : r.input().path("hold").isTextual() ? List.of(Reply.error(r.input().path("hold").asText(), false).after(6000))
                    : List.of(Reply.ok(Map.of("shipped", true)));
            // iterations 0 and 1 complete unsatisfied; the third fails, after the test cancelled it
            case "polish" -> r.request().path("iteration").asInt() < 2
                    ? List.of(Reply.ok(Map.of("satisfied", false, "version", r.request().path("iteration").asInt())))
                    : List.of(Reply.error("out of polish", false).after(6000));
            case "refund" -> r.input().path("refund_fails").asBoolean() ? List.of(Reply.error("bank offline", true))
                    : List.of(Reply.ok(Map.of("refunded", r.input().path("amount").asInt())));
            case "fail_late" -> List.of(Reply.error("carrier refused", false).after(1000));
            default -> List.of(Reply.ok(Map.of("undone", r.action())));
        }).agent("saga-silent", r -> List.of());   // takes a request, never answers
    }

    @AfterAll
    static void stop() throws Exception {
        agents.close();
    }

    private static String start(String payload, String finalStatus) {
        String eventId = sendEvent("T_SAGA", payload);
        await().atMost(Duration.ofSeconds(20)).until(() -> finalStatus.equals(executionStatus(executionOf(eventId))));
        return executionOf(eventId);
    }

    private static List<String> actionsOf(String executionId) {
        return agents.received().stream().filter(r -> r.request().path("execution_id").asText().equals(executionId))
                .map(ScriptedAgents.Received::action).toList();
    }

    private static Map<String, Object> compensation(String executionId, String stepId) {
        List<Map<String, Object>> rows = query("SELECT status, attempt, input::text AS input, error FROM workflow_step_executions "
                + "WHERE execution_id = ? AND step_id = ? AND kind = 'compensation'", executionId, stepId);
        return rows.isEmpty() ? null : rows.get(0);
    }

    @Test
    @Execution(ExecutionMode.CONCURRENT)
    void undoesCompletedStepsInReverseOrderWhenAStepFails() {
        String executionId;
        try (CapturedLog progress = CapturedLog.of(Endpoints.PROGRESS_LOG)) {
            executionId = start("{\"amount\": 30, \"fail_ship\": true}", "compensated");
            // one line says it compensates (the step's failure and the compensation's start each said it)
            assertThat(progress.lines()).filteredOn(line -> line.contains("execution " + executionId + " of ") && line.endsWith(" compensating"))
                    .hasSize(1);
        }

        assertThat(actionsOf(executionId)).containsExactly("reserve", "charge", "ship", "refund", "release");
        // an undo says so: its step_id and attempt are those of the step it undoes
        assertThat(agents.received().stream().filter(r -> r.request().path("execution_id").asText().equals(executionId)))
                .extracting(ScriptedAgents.Received::action, r -> r.request().path("kind").asText(null))
                .containsExactly(org.assertj.core.groups.Tuple.tuple("reserve", null), org.assertj.core.groups.Tuple.tuple("charge", null),
                        org.assertj.core.groups.Tuple.tuple("ship", null), org.assertj.core.groups.Tuple.tuple("refund", "compensation"),
                        org.assertj.core.groups.Tuple.tuple("release", "compensation"));
        assertThat(compensation(executionId, "charge")).containsEntry("status", "completed");
        assertThat(compensation(executionId, "charge").get("input").toString())
                .contains("\"amount\": 30", "\"charge_id\": \"c-1\"");
        assertThat(compensation(executionId, "reserve").get("input").toString()).contains("r-" + executionId);
        // over HTTP, a step id names one entry of steps; the compensations are listed apart
        com.fasterxml.jackson.databind.JsonNode view = Json.parse(ExecutionProbe.get("/api/executions/" + executionId).body());
        assertThat(view.path("steps").findValuesAsText("step_id")).containsExactlyInAnyOrder("reserve", "charge", "gift", "ship");
        assertThat(view.path("steps").findValuesAsText("kind")).containsOnly("step");
        assertThat(view.path("compensations")).extracting(c -> c.path("step_id").asText(), c -> c.path("status").asText(), c -> c.path("kind").asText())
                .containsExactlyInAnyOrder(org.assertj.core.groups.Tuple.tuple("charge", "completed", "compensation"),
                        org.assertj.core.groups.Tuple.tuple("reserve", "completed", "compensation"));
        // the failed step and the skipped one are not compensated
        assertThat(compensation(executionId, "ship")).isNull();
        assertThat(compensation(executionId, "gift")).isNull();
        await().atMost(Duration.ofSeconds(10)).until(() -> !query("SELECT 1 FROM agent_events WHERE type = 'T_SAGA_FAILED' "
                + "AND payload->>'execution_id' = ? AND payload->>'status' = 'compensated'", executionId).isEmpty());
    }

    @Test
    @Execution(ExecutionMode.CONCURRENT)
    void aFailingCompensationIsRetriedThenRecordedWithoutStoppingTheOthers() throws Exception {
        String executionId;
        try (CapturedLog progress = CapturedLog.of(Endpoints.PROGRESS_LOG)) {
            executionId = start("{\"amount\": 5, \"fail_ship\": true, \"refund_fails\": true}", "compensation_failed");
            // what its compensation could not undo needs a human: a WARN, as its step's failure was
            assertThat(progress.lines()).contains("WARN execution " + executionId + " of t_saga compensation_failed");
        }

        assertThat(compensation(executionId, "charge")).containsEntry("status", "failed").containsEntry("attempt", 2);
        assertThat(compensation(executionId, "charge").get("error").toString()).contains("bank offline");
        assertThat(compensation(executionId, "reserve")).containsEntry("status", "completed");
        assertThat(query("SELECT a.status FROM step_attempts a JOIN workflow_step_executions s ON s.id = a.step_execution_id "
                + "WHERE s.execution_id = ? AND s.kind = 'compensation' AND s.step_id = 'charge' ORDER BY a.attempt", executionId))
                .extracting(r -> r.get("status")).containsExactly("failed", "failed");

        // onFailure lists the failed step, then the failed compensation; the outbox sweep and a replay send the same list
        await().atMost(Duration.ofSeconds(10)).until(() -> !query("SELECT 1 FROM agent_events WHERE type = 'T_SAGA_FAILED' "
                + "AND payload->>'execution_id' = ?", executionId).isEmpty());
        Map<String, Object> sent = query("SELECT payload->'failures' AS failures, payload->'failures' = CAST(outcome_failures(?) AS jsonb) AS same "
                + "FROM agent_events WHERE type = 'T_SAGA_FAILED' AND payload->>'execution_id' = ?", executionId, executionId).get(0);
        com.fasterxml.jackson.databind.JsonNode failures = Json.parse(sent.get("failures").toString());
        assertThat(failures).extracting(f -> f.path("step_id").asText(), f -> f.path("kind").asText(null))
                .containsExactly(org.assertj.core.groups.Tuple.tuple("ship", null), org.assertj.core.groups.Tuple.tuple("charge", "compensation"));
        assertThat(failures.get(1).path("error").asText()).contains("bank offline");
        assertThat(sent.get("same")).isEqualTo(true);

        // its agent reports the refund done after all: recorded as the compensation's reply (not the step's), and the
        // line says the execution still counts it failed, so that an operator does not refund a second time by hand
        String undoRow = (String) query("SELECT id FROM workflow_step_executions WHERE execution_id = ? AND step_id = 'charge'"
                + " AND kind = 'compensation'", executionId).get(0).get("id");
        try (CapturedLog progress = CapturedLog.of(Endpoints.PROGRESS_LOG)) {
            ExecutionProbe.sendReply(undoRow + ":2", "{\"status\": \"ok\", \"output\": {\"refunded\": 5}}");
            await().atMost(Duration.ofSeconds(10)).until(() -> !query("SELECT 1 FROM ignored_replies WHERE execution_id = ?", executionId).isEmpty());
            assertThat(query("SELECT reason FROM ignored_replies WHERE execution_id = ?", executionId).get(0).get("reason").toString())
                    .startsWith("late or duplicate reply for attempt 2 of the compensation of step charge")
                    .contains("its agent reports the undo done after all: the execution still ends as if it failed");
            assertThat(progress.lines()).anyMatch(line -> line.startsWith("WARN reply ignored: late or duplicate reply for attempt 2 of the"
                    + " compensation of step charge"));
        }
    }

    /** An execution whose reserve and charge completed, and whose ship step is running (its agent holds the reply). */
    /** An execution whose reserve and charge completed, and whose ship step's agent has its request ({@code hold}: see the agent). */
    private static String shipping(int amount, String hold) {
        String eventId = sendEvent("T_SAGA", "{\"amount\": " + amount + ", \"hold_ship\": " + hold + "}");
        await().atMost(Duration.ofSeconds(20)).until(() -> {
            String id = executionOf(eventId);
            return id != null && actionsOf(id).contains("ship");
        });
        return executionOf(eventId);
    }

    private static HttpResponse<String> cancel(String executionId) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create(shared().httpUrl() + "/api/executions/" + executionId + "/cancel"))
                .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
    }

    /**
     * A cancel undoes what completed, and waits to learn whether the step in flight did its work: its agent reports it
     * done after the cancel, and it is undone first, with the output it reported (V47). It used to stay in place, a WARN
     * its only trace, and the undo of the steps before it did not wait for it.
     */
    @Test
    @Execution(ExecutionMode.CONCURRENT)
    void cancellingUndoesWhatCompletedAndWhatTheStepInFlightReportsDoneAfterwards() throws Exception {
        String executionId = shipping(7, "4000");
        HttpResponse<String> response = cancel(executionId);
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.body()).contains("compensating");
        // while its agent works, ship's undo waits for its reply, and charge's for ship's undo
        com.fasterxml.jackson.databind.JsonNode held = Json.parse(ExecutionProbe.get("/api/executions/" + executionId).body());
        assertThat(held.path("compensations")).extracting(c -> c.path("step_id").asText(), c -> c.path("waiting_for").asText())
                .contains(org.assertj.core.groups.Tuple.tuple("charge", "compensations of ship to settle"));
        assertThat(held.path("compensations")).filteredOn(c -> c.path("step_id").asText().equals("ship")).singleElement()
                .satisfies(c -> assertThat(c.path("waiting_for").asText()).startsWith("the reply of step ship's attempt the cancel cut off, until its deadline 20"));

        await().atMost(Duration.ofSeconds(20)).until(() -> "compensated".equals(executionStatus(executionId)));
        assertThat(stepStatuses(executionId)).containsEntry("ship", "failed");
        assertThat(compensation(executionId, "ship")).containsEntry("status", "completed")
                .containsEntry("input", "{\"tracking\": \"t-" + executionId + "\"}");
        assertThat(compensation(executionId, "charge")).containsEntry("status", "completed");
        assertThat(compensation(executionId, "reserve")).containsEntry("status", "completed");
        assertThat(actionsOf(executionId)).containsExactly("reserve", "charge", "ship", "recall", "refund", "release");
        // the step failed with the cancel, and keeps what its agent reported
        assertThat(query("SELECT error, output->>'tracking' AS tracking FROM workflow_step_executions "
                + "WHERE execution_id = ? AND step_id = 'ship' AND kind = 'step'", executionId)).singleElement()
                .satisfies(row -> assertThat(row).containsEntry("error", ReplyRoutes.CANCELLED_BY_REQUEST)
                        .containsEntry("tracking", "t-" + executionId));
        assertThat(query("SELECT 1 FROM ignored_replies WHERE execution_id = ?", executionId)).isEmpty();
    }

    /** The step in flight at a cancel reports an error afterwards: nothing of it stands, and nothing of it is undone. */
    @Test
    @Execution(ExecutionMode.CONCURRENT)
    void aStepInFlightThatReportsAnErrorAfterTheCancelIsNotUndone() throws Exception {
        String executionId = shipping(9, "\"lost in transit\"");
        HttpResponse<String> cancelled = cancel(executionId);
        assertThat(cancelled.statusCode()).as(cancelled.body()).isEqualTo(200);
        assertThat(Json.parse(cancelled.body()).path("status").asText()).isEqualTo("compensating");
        await().atMost(Duration.ofSeconds(20)).until(() -> "compensated".equals(executionStatus(executionId)));
        assertThat(compensation(executionId, "ship")).containsEntry("status", "skipped");
        assertThat(compensation(executionId, "charge")).containsEntry("status", "completed");
        assertThat(actionsOf(executionId)).containsExactly("reserve", "charge", "ship", "refund", "release");
    }

    /**
     * The agent of the step in flight at a cancel takes its request and never answers: its undo waits for the attempt's
     * deadline, then has nothing known done to undo, and the undo of the step before it runs.
     */
    @Test
    @Execution(ExecutionMode.CONCURRENT)
    void aStepInFlightThatNeverAnswersIsNotUndoneOnceItsDeadlinePassed() throws Exception {
        String eventId = sendEvent("T_SAGA_SILENT", "{}");
        await().atMost(Duration.ofSeconds(20)).until(() -> executionOf(eventId) != null && actionsOf(executionOf(eventId)).contains("pay"));
        String executionId = executionOf(eventId);
        assertThat(cancel(executionId).body()).contains("compensating");
        assertThat(compensation(executionId, "pay")).containsEntry("status", "pending");
        await().atMost(Duration.ofSeconds(20)).until(() -> "compensated".equals(executionStatus(executionId)));
        // book's undo waited for pay's attempt's deadline (8 s from its start)
        assertThat(query("SELECT u.started_at >= p.started_at + interval '8 seconds' AS after FROM workflow_step_executions u"
                + " JOIN workflow_step_executions p ON p.execution_id = u.execution_id AND p.step_id = 'pay' AND p.kind = 'step'"
                + " WHERE u.execution_id = ? AND u.step_id = 'book' AND u.kind = 'compensation'", executionId))
                .singleElement().satisfies(row -> assertThat(row).containsEntry("after", true));
        assertThat(compensation(executionId, "pay")).containsEntry("status", "skipped");
        assertThat(compensation(executionId, "book")).containsEntry("status", "completed");
        assertThat(actionsOf(executionId)).containsExactly("book", "pay", "unbook");
    }

    /**
     * A step handed to a person (its agent never answers) is cut off by a cancel: the person's answer over HTTP decides
     * the held undo as the agent's reply would, instead of a 409 that leaves the work in place until the deadline.
     */
    @Test
    @Execution(ExecutionMode.CONCURRENT)
    void aPersonsAnswerOverHttpDecidesTheHeldUndo() throws Exception {
        String eventId = sendEvent("T_SAGA_SILENT", "{}");
        await().atMost(Duration.ofSeconds(20)).until(() -> executionOf(eventId) != null && actionsOf(executionOf(eventId)).contains("pay"));
        String executionId = executionOf(eventId);
        assertThat(cancel(executionId).body()).contains("compensating");
        HttpResponse<String> answer = ExecutionProbe.post("/api/executions/" + executionId + "/steps/pay/reply",
                "{\"status\": \"ok\", \"output\": {\"paid\": 3}}");
        assertThat(answer.statusCode()).as(answer.body()).isEqualTo(202);
        // long before pay's deadline (8 s)
        await().atMost(Duration.ofSeconds(5)).until(() -> "compensated".equals(executionStatus(executionId)));
        assertThat(compensation(executionId, "pay")).containsEntry("status", "completed");
        assertThat(actionsOf(executionId)).containsExactly("book", "pay", "repay", "unbook");
    }

    /**
     * A coordinator of schema 46 (a rolling upgrade) knows no holds: it started the held compensation as any pending one,
     * which completed with its hold still marked. The hold is cleared, or the saga would wait for it for ever.
     */
    @Test
    @Execution(ExecutionMode.CONCURRENT)
    void aHoldLeftOnACompensationAnEarlierReleaseStartedIsClearedAndTheSagaEnds() throws Exception {
        String eventId = sendEvent("T_SAGA_SILENT", "{}");
        await().atMost(Duration.ofSeconds(20)).until(() -> executionOf(eventId) != null && actionsOf(executionOf(eventId)).contains("pay"));
        String executionId = executionOf(eventId);
        assertThat(cancel(executionId).body()).contains("compensating");
        // what the earlier release left: the held undo started and completed, its mark still there
        new org.springframework.jdbc.core.JdbcTemplate(shared().dataSource()).update("UPDATE workflow_step_executions SET status = 'completed',"
                + " attempt = 1, completed_at = now() WHERE execution_id = ? AND step_id = 'pay' AND kind = 'compensation'", executionId);
        // long before pay's deadline (8 s): the stalled-compensation sweep takes it up once the mark is gone
        await().atMost(Duration.ofSeconds(7)).until(() -> "compensated".equals(executionStatus(executionId)));
        assertThat(query("SELECT 1 FROM workflow_step_executions WHERE execution_id = ? AND held_until IS NOT NULL", executionId)).isEmpty();
        assertThat(actionsOf(executionId)).containsExactly("book", "pay", "unbook");
    }

    /**
     * The step in flight at a cancel had its request still queued, no agent having taken it: taken back off the queue, it
     * did nothing, and the execution, with nothing else to undo, ends cancelled long before the attempt's deadline, with
     * no compensation rows left (a retry of it starts clean).
     */
    @Test
    @Execution(ExecutionMode.CONCURRENT)
    void aStepWhoseRequestNoAgentTookIsNotUndoneAndTheExecutionEndsCancelled() throws Exception {
        String eventId = sendEvent("T_SAGA_UNHEARD", "{}");
        await().atMost(Duration.ofSeconds(20)).until(() -> executionOf(eventId) != null
                && "running".equals(stepStatuses(executionOf(eventId)).get("pay")));
        String executionId = executionOf(eventId);
        assertThat(cancel(executionId).body()).contains("compensating");
        // its attempt's deadline is a minute away
        await().atMost(Duration.ofSeconds(15)).until(() -> "cancelled".equals(executionStatus(executionId)));
        assertThat(compensation(executionId, "pay")).isNull();
        assertThat(actionsOf(executionId)).isEmpty();
    }

    /**
     * A loop's step is undone as its work stands: cancelled in an iteration still running, the iterations before
     * completed, and the latest of them is undone, with its output (V43). It used to be left in place, the
     * execution ending cancelled.
     */
    @Test
    @Execution(ExecutionMode.CONCURRENT)
    void cancellingALoopInAnIterationStillRunningUndoesTheIterationBefore() throws Exception {
        String eventId = sendEvent("T_LOOP_SAGA", "{}");
        await().atMost(Duration.ofSeconds(20)).until(() -> executionOf(eventId) != null
                && actionsOf(executionOf(eventId)).size() == 3);
        String executionId = executionOf(eventId);

        HttpResponse<String> response = cancel(executionId);
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(Json.parse(response.body()).path("status").asText()).isEqualTo("compensating");
        await().atMost(Duration.ofSeconds(20)).until(() -> "compensated".equals(executionStatus(executionId)));
        assertThat(compensation(executionId, "polish")).containsEntry("status", "completed").containsEntry("input", "{\"version\": 1}");
        assertThat(actionsOf(executionId)).containsExactly("polish", "polish", "polish", "unpolish");
    }

    /**
     * A loop that fails when exhausted ends on an iteration its agent reported done: that work is undone, with that
     * iteration's output, and the execution ends compensated, not failed with the work in place.
     */
    @Test
    @Execution(ExecutionMode.CONCURRENT)
    void aLoopThatFailsExhaustedIsUndoneAsItsLastIterationLeftIt() {
        String eventId = sendEvent("T_LOOP_SAGA_EXHAUSTED", "{}");
        await().atMost(Duration.ofSeconds(20)).until(() -> "compensated".equals(executionStatus(executionOf(eventId))));
        String executionId = executionOf(eventId);
        assertThat(compensation(executionId, "polish")).containsEntry("status", "completed").containsEntry("input", "{\"version\": 1}");
        assertThat(actionsOf(executionId)).containsExactly("polish", "polish", "unpolish");
        assertThat(query("SELECT status, error FROM workflow_step_executions WHERE execution_id = ? AND kind = 'step' AND iteration = 1",
                executionId)).singleElement().satisfies(row -> assertThat(row).containsEntry("status", "failed")
                        .hasEntrySatisfying("error", error -> assertThat(error).asString().startsWith("loop ended after 2 iterations without satisfying its until condition (")));
    }

    // replaces the trigger function RefusedTransition shares
    @ResourceLock("RefusedTransition")
    @Test
    @Execution(ExecutionMode.CONCURRENT)
    void aCancelWhoseCompensationsCouldNotStartIsAnsweredAndTheSweepCompensatesLater() throws Exception {
        String executionId = shipping(8, "\"no truck\"");
        try (RefusedTransition refused = RefusedTransition.of(executionId, "compensation", "running")) {
            HttpResponse<String> response = cancel(executionId);
            // the cancel is committed: the client is told so, not that it failed
            assertThat(response.statusCode()).isEqualTo(200);
            assertThat(Json.parse(response.body()).path("status").asText()).isEqualTo("compensating");
            assertThat(compensation(executionId, "charge")).containsEntry("status", "pending");
            // ship's error reply 3 s later releases its held undo (nothing to undo), and charge's start is refused
            await().atMost(Duration.ofSeconds(10)).until(() -> refused.refusals() >= 1);
            // nothing else would move it again: the stalled-compensation sweep takes it up after 50 periods
            // (2.5 s at the tests' period), and again only 50 periods later while its dispatch still fails
            await().atMost(Duration.ofSeconds(30)).until(() -> refused.refusals() >= 3);
            assertThat(refused.refusals()).isLessThanOrEqualTo(4);
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> "compensated".equals(executionStatus(executionId)));
        assertThat(compensation(executionId, "charge")).containsEntry("status", "completed");
        assertThat(compensation(executionId, "reserve")).containsEntry("status", "completed");
        assertThat(actionsOf(executionId)).containsExactly("reserve", "charge", "ship", "refund", "release");
    }

    /**
     * The failure that starts the compensations rolls back after one compensation's request was sent (the other's
     * start is refused): the redelivered reply sends that request again, since the rollback took it away, and
     * the compensation does not wait for its timeout.
     */
    // replaces the trigger function RefusedTransition shares
    @ResourceLock("RefusedTransition")
    @Test
    @Execution(ExecutionMode.CONCURRENT)
    void aCompensationWhoseRequestARollbackTookAwayIsSentAgainByTheRedelivery() {
        String eventId = sendEvent("T_SAGA_PAIR", "{}");
        await().atMost(Duration.ofSeconds(20)).until(() -> executionOf(eventId) != null
                && "running".equals(stepStatuses(executionOf(eventId)).get("last")));
        String executionId = executionOf(eventId);
        try (RefusedTransition refused = RefusedTransition.ofStep(executionId, "right", "compensation", "running")) {
            // the failure's delivery and the broker's first redelivery both roll back at the refused start
            await().atMost(Duration.ofSeconds(20)).until(() -> refused.refusals() >= 2);
            // started by the first delivery; its request, which that rollback took away, is now sent by the retry
            // sweep once the redelivery made it due, whatever becomes of the message: it may be done already
            assertThat(compensation(executionId, "left").get("status")).isIn("running", "completed");
        }
        await().atMost(Duration.ofSeconds(20)).until(() -> "compensated".equals(executionStatus(executionId)));
        assertThat(actionsOf(executionId)).filteredOn(action -> action.startsWith("undo_"))
                .containsExactlyInAnyOrder("undo_left", "undo_right");
    }

    @Test
    @Execution(ExecutionMode.CONCURRENT)
    void nothingIsCompensatedWhenTheExecutionSucceeds() {
        String executionId = start("{\"amount\": 1}", "completed");
        assertThat(query("SELECT 1 FROM workflow_step_executions WHERE execution_id = ? AND kind = 'compensation'", executionId)).isEmpty();
        assertThat(actionsOf(executionId)).containsExactly("reserve", "charge", "ship");
        // t_saga declares no onSuccess: its settling statement leaves nothing to send (V18)
        assertThat(query("SELECT 1 FROM outcome_outbox WHERE execution_id = ?", executionId)).isEmpty();
    }

    @Test
    @Execution(ExecutionMode.CONCURRENT)
    void anOutcomeEventLeftUnsentWhenItsExecutionSettledIsSentByTheSweep() {
        String executionId = start("{\"amount\": 4, \"fail_ship\": true}", "compensated");
        await().atMost(Duration.ofSeconds(10)).until(() -> outcomeDeliveries(executionId) == 1
                && query("SELECT 1 FROM outcome_outbox WHERE execution_id = ?", executionId).isEmpty());

        // what a stop between the settling statement and the send leaves behind: the row still there
        new org.springframework.jdbc.core.JdbcTemplate(shared().dataSource()).update("INSERT INTO outcome_outbox "
                + "(execution_id, status, settled_at) VALUES (?, 'compensated', now() - interval '1 hour')", executionId);

        // sent again by the sweep (every 50 periods, 2.5 s at the tests' period); the event's id makes
        // the second one a second delivery of the same event, not a second event
        await().atMost(Duration.ofSeconds(30)).until(() -> outcomeDeliveries(executionId) == 2);
        await().atMost(Duration.ofSeconds(10)).until(() -> query("SELECT 1 FROM outcome_outbox WHERE execution_id = ?", executionId).isEmpty());
    }

    /**
     * The message that settled a saga rolled back after its statements committed (the broker died before its JMS
     * commit): the outcome event went with it, and its outbox row was gone. The reply delivered again finds the
     * execution compensated and sends the event again, as a step's reply delivered again does (a chaos run lost one).
     */
    @Test
    @Execution(ExecutionMode.CONCURRENT)
    void aCompensationsReplyDeliveredAgainAfterItsExecutionSettledSendsTheOutcomeAgain() throws Exception {
        String executionId = start("{\"amount\": 6, \"fail_ship\": true}", "compensated");
        await().atMost(Duration.ofSeconds(10)).until(() -> outcomeDeliveries(executionId) == 1);
        // what the rollback left: no event stored, no outbox row
        new org.springframework.jdbc.core.JdbcTemplate(shared().dataSource()).update("DELETE FROM agent_events WHERE type = 'T_SAGA_FAILED' "
                + "AND payload->>'execution_id' = ?", executionId);
        String lastUndo = agents.received().stream().filter(r -> r.request().path("execution_id").asText().equals(executionId)
                && r.action().equals("release")).findFirst().orElseThrow().correlationId();

        ExecutionProbe.sendReply(lastUndo, "{\"status\": \"ok\", \"output\": {\"undone\": \"release\"}}");

        await().atMost(Duration.ofSeconds(10)).until(() -> outcomeDeliveries(executionId) == 1);
        assertThat(query("SELECT 1 FROM ignored_replies WHERE execution_id = ?", executionId)).hasSize(1);
    }

    private static int outcomeDeliveries(String executionId) {
        List<Map<String, Object>> rows = query("SELECT deliveries FROM agent_events WHERE type = 'T_SAGA_FAILED' "
                + "AND payload->>'execution_id' = ? AND payload->>'status' = 'compensated'", executionId);
        return rows.isEmpty() ? 0 : ((Number) rows.get(0).get("deliveries")).intValue();
    }
}
