package dev.agentcoordinator.engine;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import static dev.agentcoordinator.engine.TestCoordinator.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A loop over several steps (loop.repeat_from) meeting the rest of the engine: a cancel and a retry in its second
 * iteration, an attempt timeout of its repeated first step, a condition inside it, compensations of its steps, the
 * execution's timeout, and a first step whose request carries the execution's context. The writer appends a "+"
 * to the text its reviewer last saw (or to the brief), and gives no reply to the first attempt of iteration
 * {@code hang_at}; the critic approves once the text has {@code target} of them.
 */
class LoopOverStepsInteractionsTest {
    private static ScriptedAgents agents;

    @BeforeAll
    static void agents() throws Exception {
        agents = new ScriptedAgents(shared().connectionFactory())
                .agent("lx-writer", r -> r.input().path("hang_at").asInt(-1) == r.request().path("iteration").asInt()
                        && r.request().path("attempt").asInt() == 1
                        ? List.of()   // stays running: cancelled, timed out or left to the execution's timeout
                        : List.of(ScriptedAgents.Reply.ok(written(r.input()))))
                .agent("lx-editor", r -> switch (r.action()) {
                    case "polish" -> List.of(ScriptedAgents.Reply.ok(Map.of("text", r.input().path("text").asText())));
                    default -> r.input().path("fail").asBoolean(false)
                            ? List.of(ScriptedAgents.Reply.error("the press is down", false))
                            : List.of(ScriptedAgents.Reply.ok(Map.of("published", r.input().path("text").asText())));
                })
                .echo("lx-critic", LoopOverStepsInteractionsTest::reviewed)
                .agent("lx-ctx-critic", r -> {
                    Map<String, Object> review = reviewed(r);
                    return List.of(new ScriptedAgents.Reply(0, Json.write(Map.of("status", "ok", "output", review,
                            "shared_memory", Map.of("last_notes", review.get("notes")))), null));
                })
                .echo("lx-undo", r -> Map.of("undone", true));
    }

    private static Map<String, Object> written(JsonNode input) {
        JsonNode previous = input.path("previous_iteration_output").path("text");
        String text = (previous.isTextual() ? previous.asText() : input.path("brief").asText()) + "+";
        return Map.of("text", text, "length", text.length());
    }

    private static Map<String, Object> reviewed(ScriptedAgents.Received r) {
        String text = r.input().path("text").asText();
        long pluses = text.chars().filter(c -> c == '+').count();
        int target = r.input().path("target").asInt();
        return Map.of("approved", pluses >= target, "text", text, "notes", pluses >= target ? "fine" : "needs " + (target - pluses) + " more");
    }

    @AfterAll
    static void stop() throws Exception {
        agents.close();
    }

    private static List<Map<String, Object>> rows(String executionId, String stepId) {
        return query("SELECT iteration, status, input::text AS input, output->>'text' AS text, error FROM workflow_step_executions "
                + "WHERE execution_id = ? AND step_id = ? AND kind = 'step' ORDER BY iteration", executionId, stepId);
    }

    private static List<ScriptedAgents.Received> writes(String executionId, int iteration) {
        return agents.received().stream()
                .filter(r -> r.request().path("execution_id").asText().equals(executionId) && r.stepId().equals("write")
                        && r.request().path("iteration").asInt() == iteration)
                .toList();
    }

    private static String started(String eventId) {
        await().atMost(Duration.ofSeconds(10)).until(() -> executionOf(eventId) != null);
        return executionOf(eventId);
    }

    private static void awaitStatus(String executionId, String status) {
        await().atMost(Duration.ofSeconds(10)).until(() -> status.equals(executionStatus(executionId)));
    }

    /** Scenario 1: a cancel while the second iteration's write runs, then a retry, which goes on with that write. */
    @Test
    void aCancelInTheSecondIterationThenARetryGoesOnWithThatIteration() {
        String executionId = started(sendEvent("LX_LOOP_CANCEL", "{\"topic\":\"camel\",\"target\":3,\"hang_at\":1,\"fail_publish\":false}"));
        await().atMost(Duration.ofSeconds(10)).until(() -> writes(executionId, 1).size() == 1);

        assertThat(ExecutionProbe.post("/api/executions/" + executionId + "/cancel", null).statusCode()).isEqualTo(200);
        awaitStatus(executionId, "cancelled");
        assertThat(rows(executionId, "write")).extracting(r -> r.get("status")).containsExactly("completed", "failed");
        assertThat(rows(executionId, "polish")).extracting(r -> r.get("status")).containsExactly("completed", "skipped");
        assertThat(rows(executionId, "review")).extracting(r -> r.get("status")).containsExactly("completed", "skipped");
        assertThat(rows(executionId, "publish")).extracting(r -> r.get("status")).containsExactly("skipped");

        assertThat(ExecutionProbe.post("/api/executions/" + executionId + "/retry", null).statusCode()).isEqualTo(202);
        awaitStatus(executionId, "completed");
        assertThat(rows(executionId, "write")).extracting(r -> r.get("text")).containsExactly("camel+", "camel++", "camel+++");
        assertThat(rows(executionId, "review")).extracting(r -> r.get("status")).containsExactly("completed", "completed", "completed");
        assertThat(writes(executionId, 1)).hasSize(2)
                .allSatisfy(r -> assertThat(r.input().path("notes").asText()).isEqualTo("needs 2 more"))
                .extracting(r -> r.request().path("attempt").asInt()).containsExactly(1, 2);
        assertThat(rows(executionId, "publish")).singleElement().satisfies(r -> assertThat(r.get("input").toString()).contains("camel+++"));
    }

    /** Scenario 2: the repeated first step's attempt times out in iteration 1; its retry has the fed-back input. */
    @Test
    void aTimedOutAttemptOfTheRepeatedFirstStepIsRetriedWithItsFeedback() {
        String executionId = started(sendEvent("LX_LOOP_TIMEOUT", "{\"topic\":\"camel\",\"target\":3,\"hang_at\":1,\"fail_publish\":false}"));
        awaitStatus(executionId, "completed");
        List<ScriptedAgents.Received> second = writes(executionId, 1);
        assertThat(second).extracting(r -> r.request().path("attempt").asInt()).containsExactly(1, 2);
        assertThat(second).allSatisfy(r -> {
            assertThat(r.input().path("notes").asText()).isEqualTo("needs 2 more");
            assertThat(r.input().path("previous_iteration_output").path("text").asText()).isEqualTo("camel+");
            assertThat(r.input().path("brief").asText()).isEqualTo("camel");
        });
        assertThat(rows(executionId, "write")).extracting(r -> r.get("text")).containsExactly("camel+", "camel++", "camel+++");
        assertThat(ExecutionProbe.attempts(executionId, "write")).hasSize(4);
    }

    /**
     * Scenario 3: a condition on the loop's middle step reads the first step's output of the same iteration. (One that
     * reads the loop's step is refused by the validator: that step is no ancestor of it.)
     */
    @Test
    void aConditionInsideTheLoopReadsTheFirstStepOfItsOwnIteration() {
        String executionId = started(sendEvent("LX_LOOP_CONDITION", "{\"topic\":\"abcde\",\"target\":3}"));
        awaitStatus(executionId, "completed");
        assertThat(rows(executionId, "write")).extracting(r -> r.get("text")).containsExactly("abcde+", "abcde++", "abcde+++");
        // "abcde+++" is 8 long: the third polish is skipped, on that iteration's write
        assertThat(rows(executionId, "polish")).extracting(r -> r.get("status")).containsExactly("completed", "completed", "skipped");
        assertThat(rows(executionId, "polish").get(2).get("error").toString()).contains("was 8");
        assertThat(rows(executionId, "review")).extracting(r -> r.get("status")).containsExactly("completed", "completed", "completed");
        assertThat(rows(executionId, "review")).extracting(r -> r.get("text")).containsExactly("abcde+", "abcde++", "abcde+++");
    }

    /**
     * Scenario 3 with a cancel and a retry: polish was skipped by its condition in iteration 1, and iteration 2 is
     * cancelled while its write runs. The retry resets every skipped row, iteration 1's too, but runs each step's
     * latest row only: iteration 1's polish must not be left pending, or the execution never finishes.
     */
    @Test
    void aRetryAfterACancelFinishesWhenAnEarlierIterationSkippedAStep() {
        String executionId = started(sendEvent("LX_LOOP_CONDITION_RETRY", "{\"topic\":\"abcdef\",\"target\":3,\"hang_at\":2}"));
        await().atMost(Duration.ofSeconds(10)).until(() -> writes(executionId, 2).size() == 1);
        assertThat(rows(executionId, "polish")).extracting(r -> r.get("status")).containsExactly("completed", "skipped", "pending");
        assertThat(ExecutionProbe.post("/api/executions/" + executionId + "/cancel", null).statusCode()).isEqualTo(200);
        awaitStatus(executionId, "cancelled");

        assertThat(ExecutionProbe.post("/api/executions/" + executionId + "/retry", null).statusCode()).isEqualTo(202);
        await().atMost(Duration.ofSeconds(10)).until(() -> writes(executionId, 2).size() == 2);
        awaitStatus(executionId, "completed");
        assertThat(rows(executionId, "polish")).extracting(r -> r.get("status")).containsExactly("completed", "skipped", "skipped");
    }

    private static List<ScriptedAgents.Received> undos(String executionId) {
        return agents.received().stream()
                .filter(r -> r.agent().equals("lx-undo") && r.request().path("execution_id").asText().equals(executionId))
                .toList();
    }

    /** Scenario 4: a step after the loop fails; the loop's steps are undone with their latest iteration's input and output. */
    @Test
    void aFailureAfterTheLoopUndoesTheLatestIterationOfEachOfItsSteps() {
        String executionId = started(sendEvent("LX_LOOP_SAGA", "{\"topic\":\"camel\",\"target\":2,\"hang_at\":-1,\"fail_publish\":true}"));
        awaitStatus(executionId, "compensated");
        List<ScriptedAgents.Received> undone = undos(executionId);
        assertThat(undone).extracting(ScriptedAgents.Received::action).containsExactly("unreview", "unpolish", "unwrite");
        assertThat(undone.get(0).input().path("polished").asText()).isEqualTo("camel++");
        assertThat(undone.get(1).input().path("text").asText()).isEqualTo("camel++");
        assertThat(undone.get(1).input().path("was").asText()).isEqualTo("camel++");
        assertThat(undone.get(2).input().path("text").asText()).isEqualTo("camel++");
        assertThat(undone.get(2).input().path("notes").asText()).isEqualTo("needs 1 more");
    }

    /**
     * Scenario 4 with a cancel: in the second iteration, while its write runs, polish has completed once (iteration 0)
     * and its iteration-1 row never started. What it did in iteration 0 is undone; the write in flight never answers, so
     * its undo waits for that attempt's deadline (V47), then undoes the write of iteration 0.
     */
    @Test
    void aCancelInTheSecondIterationUndoesTheLoopStepsThatCompletedInTheFirst() {
        String executionId = started(sendEvent("LX_LOOP_SAGA", "{\"topic\":\"camel\",\"target\":3,\"hang_at\":1,\"fail_publish\":false}"));
        await().atMost(Duration.ofSeconds(10)).until(() -> writes(executionId, 1).size() == 1);
        assertThat(ExecutionProbe.post("/api/executions/" + executionId + "/cancel", null).statusCode()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(20)).until(() -> !List.of("running", "compensating").contains(executionStatus(executionId)));
        assertThat(undos(executionId)).filteredOn(r -> r.action().equals("unwrite")).singleElement()
                .satisfies(r -> assertThat(r.input().path("text").asText()).isEqualTo("camel+"));

        assertThat(rows(executionId, "polish")).extracting(r -> r.get("status")).containsExactly("completed", "skipped");
        assertThat(executionStatus(executionId)).as("polish completed in iteration 0 and declares how to undo it").isEqualTo("compensated");
        assertThat(undos(executionId)).extracting(ScriptedAgents.Received::action).contains("unpolish");
        assertThat(undos(executionId)).filteredOn(r -> r.action().equals("unpolish")).singleElement()
                .satisfies(r -> assertThat(r.input().path("text").asText()).isEqualTo("camel+"));
        // a compensation's from_step reads a step's latest iteration that ran: polish's second never did
        assertThat(undos(executionId)).filteredOn(r -> r.action().equals("unreview")).singleElement()
                .satisfies(r -> assertThat(r.input().path("polished").asText()).isEqualTo("camel+"));
    }

    /** Scenario 5: the execution's timeout in the third iteration settles that iteration's rows and ends it failed. */
    @Test
    void theExecutionTimeoutInTheThirdIterationSettlesThatIteration() {
        String executionId = started(sendEvent("LX_LOOP_WF_TIMEOUT", "{\"topic\":\"camel\",\"target\":4,\"hang_at\":2,\"fail_publish\":false}"));
        await().atMost(Duration.ofSeconds(30)).until(() -> "failed".equals(executionStatus(executionId)));
        assertThat(rows(executionId, "write")).extracting(r -> r.get("status")).containsExactly("completed", "completed", "failed");
        assertThat(rows(executionId, "polish")).extracting(r -> r.get("status")).containsExactly("completed", "completed", "skipped");
        assertThat(rows(executionId, "review")).extracting(r -> r.get("status")).containsExactly("completed", "completed", "skipped");
        assertThat(rows(executionId, "publish")).extracting(r -> r.get("status")).containsExactly("skipped");
        Map<String, Object> execution = query("SELECT error, result::text AS result FROM workflow_executions WHERE id = ?", executionId).get(0);
        assertThat(execution.get("error").toString()).contains("workflow timed out");
        assertThat(Json.parse(execution.get("result").toString()).path("write").path("status").asText()).isEqualTo("failed");
        assertThat(Json.parse(execution.get("result").toString()).path("review").path("status").asText()).isEqualTo("skipped");
    }

    /**
     * Scenario 6: the repeated first step asks for the execution's context. README: "as they are when the step
     * starts", so the second write sees the shared memory the first review wrote (the statement that starts it copied
     * the first write's context, from before any of it). The steps of the loop are in step_outputs as their latest
     * iteration stands (pending): their previous outputs come with the feedback.
     */
    @Test
    void theRepeatedFirstStepGetsTheContextAsItIsWhenItsIterationStarts() {
        String executionId = started(sendEvent("LX_LOOP_CONTEXT", "{\"topic\":\"camel\",\"target\":2}"));
        awaitStatus(executionId, "completed");
        JsonNode first = writes(executionId, 0).get(0).request().path("context");
        assertThat(first.path("shared_memory").has("last_notes")).isFalse();
        JsonNode second = writes(executionId, 1).get(0).request().path("context");
        assertThat(second.path("shared_memory").path("last_notes").asText()).as(second.toString()).isEqualTo("needs 1 more");
        assertThat(writes(executionId, 1).get(0).input().path("notes").asText()).isEqualTo("needs 1 more");
        // kept with the row: a retry or a re-sent request carries the same
        assertThat(query("SELECT request_context->'shared_memory'->>'last_notes' AS notes FROM workflow_step_executions "
                + "WHERE execution_id = ? AND step_id = 'write' AND iteration = 1", executionId).get(0).get("notes")).isEqualTo("needs 1 more");
    }
}
