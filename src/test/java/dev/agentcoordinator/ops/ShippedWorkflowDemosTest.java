package dev.agentcoordinator.ops;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The shipped workflows' demo knobs with the demo agents, as the README's "Try it" shows them: roadmap_revision's
 * lock that makes a second revision of one roadmap wait, and its compensation after a failure and after a cancel;
 * resume_uploaded's retries and timeouts.
 */
// Its methods run side by side (@Execution(CONCURRENT), junit-platform.properties): each waits seconds for
// the demo agents' simulated latencies and timeouts, for users and resumes of its own.
class ShippedWorkflowDemosTest {
    private static final String ROADMAP_REVISION = "ROADMAP_REVISION_REQUESTED";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String WEAK_SKILLS = "\"skills\":[{\"name\":\"sql\",\"level\":1},{\"name\":\"go\",\"level\":4}]";

    @Test
    @Execution(ExecutionMode.CONCURRENT)
    void aFailedNotificationUndoesTheRoadmapChange() throws Exception {
        String user = "u-" + UUID.randomUUID();
        String executionId = start(ROADMAP_REVISION, "{\"user_id\":\"" + user + "\"," + WEAK_SKILLS + ",\"notify_error\":\"mail server down\"}");

        JsonNode execution = awaitStatus(executionId, "compensated");
        assertThat(step(execution, "adjust_roadmap").path("output").path("changes")).hasSize(1);
        assertThat(step(execution, "notify_user").path("status").asText()).isEqualTo("failed");
        assertThat(step(execution, "notify_user").path("error").asText()).isEqualTo("mail server down");
        JsonNode revert = execution.path("compensations").get(0);
        assertThat(revert.path("step_id").asText()).isEqualTo("adjust_roadmap");
        assertThat(revert.path("status").asText()).isEqualTo("completed");
        assertThat(revert.path("output").path("reverted").asText()).isEqualTo("adj-" + user);
    }

    @Test
    @Execution(ExecutionMode.CONCURRENT)
    void aSecondRevisionOfOneRoadmapWaitsForTheLock() throws Exception {
        String user = "u-" + UUID.randomUUID();
        // long enough for the second to be seen waiting on a loaded machine
        String first = start(ROADMAP_REVISION, "{\"user_id\":\"" + user + "\"," + WEAK_SKILLS + ",\"adjust_latency_ms\":8000}");
        await().atMost(Duration.ofSeconds(30)).until(() -> "running".equals(step(view(first), "adjust_roadmap").path("status").asText()));
        String second = start(ROADMAP_REVISION, "{\"user_id\":\"" + user + "\"," + WEAK_SKILLS + "}");

        JsonNode waiting = await().atMost(Duration.ofSeconds(30)).until(() -> step(view(second), "adjust_roadmap"),
                step -> step.path("waiting_for").asText().startsWith("lock roadmap/" + user + " held by architect"));
        assertThat(waiting.path("status").asText()).isEqualTo("pending");
        assertThat(waiting.path("waiting_for").asText()).contains("execution " + first);

        awaitStatus(first, "completed");
        JsonNode done = awaitStatus(second, "completed");
        assertThat(java.time.OffsetDateTime.parse(step(done, "adjust_roadmap").path("started_at").asText()))
                .isAfterOrEqualTo(java.time.OffsetDateTime.parse(step(view(first), "adjust_roadmap").path("completed_at").asText()));
    }

    @Test
    @Execution(ExecutionMode.CONCURRENT)
    void aCancelAfterTheRoadmapChangedUndoesIt() throws Exception {
        String user = "u-" + UUID.randomUUID();
        String executionId = start(ROADMAP_REVISION, "{\"user_id\":\"" + user + "\"," + WEAK_SKILLS + ",\"notify_latency_ms\":20000}");
        await().atMost(Duration.ofSeconds(30)).until(() -> "running".equals(step(view(executionId), "notify_user").path("status").asText()));

        HttpResponse<String> cancelled = OpsCoordinator.post("/api/executions/" + executionId + "/cancel", "{}", true);
        assertThat(cancelled.statusCode()).as(cancelled.body()).isEqualTo(200);
        JsonNode execution = awaitStatus(executionId, "compensated");
        assertThat(execution.path("compensations").get(0).path("output").path("reverted").asText()).isEqualTo("adj-" + user);
    }

    /** resume_uploaded's parse_resume fails its first attempt (the demo knob), and its retry completes. */
    @Test
    @Execution(ExecutionMode.CONCURRENT)
    void aStepThatFailsIsRetriedAndCompletes() throws Exception {
        String executionId = start("RESUME_UPLOADED", "{\"resume_id\":\"r-1\",\"user_id\":\"u-1\",\"parse_fails_until\":2}");

        JsonNode execution = awaitStatus(executionId, "completed");
        JsonNode parse = step(execution, "parse_resume");
        assertThat(parse.path("attempt").asInt()).isEqualTo(2);
        assertThat(parse.path("attempts").findValuesAsText("status")).containsExactly("failed", "completed");
    }

    /** resume_uploaded's parse_resume answers after its 5 s timeout (the demo knob): every attempt times out, the execution fails. */
    @Test
    @Execution(ExecutionMode.CONCURRENT)
    void aStepSlowerThanItsTimeoutTimesOutOnEveryAttemptAndFails() throws Exception {
        String executionId = start("RESUME_UPLOADED", "{\"resume_id\":\"r-2\",\"user_id\":\"u-2\",\"parse_latency_ms\":6000}");

        JsonNode execution = awaitStatus(executionId, "failed");
        JsonNode parse = step(execution, "parse_resume");
        assertThat(parse.path("attempts").findValuesAsText("status")).containsExactly("timed_out", "timed_out");
        assertThat(parse.path("error").asText()).isEqualTo("attempt 2 timed out after 5000 ms");
        assertThat(step(execution, "extract_skills").path("status").asText()).isEqualTo("skipped");
    }

    /**
     * response_refinement (spec pattern 4): the demo evaluator judges the first refinement not good enough, so the
     * loop runs refine_response and evaluate_response again, with the critique, and the second refinement is delivered.
     */
    @Test
    @Execution(ExecutionMode.CONCURRENT)
    void aRefinementTheEvaluatorRejectsIsRefinedAgain() throws Exception {
        String executionId = start("RESPONSE_REQUESTED", "{\"question\":\"Why Camel?\"}");

        JsonNode execution = awaitStatus(executionId, "completed");
        List<JsonNode> refinements = rows(execution, "refine_response");
        List<JsonNode> verdicts = rows(execution, "evaluate_response");
        assertThat(refinements).extracting(r -> r.path("iteration").asInt()).containsExactly(0, 1);
        assertThat(verdicts).extracting(r -> r.path("output").path("satisfied").asBoolean()).containsExactly(false, true);
        assertThat(refinements.get(1).path("input").path("critique").asText()).isEqualTo("too vague: give a concrete example");
        assertThat(refinements.get(1).path("output").path("draft").asText()).isEqualTo("Draft: Why Camel? (refined) (refined)");
        assertThat(rows(execution, "draft_response")).hasSize(1);
        assertThat(rows(execution, "deliver_response")).singleElement()
                .satisfies(deliver -> assertThat(deliver.path("input").path("answer").asText()).isEqualTo("Draft: Why Camel? (refined) (refined)"));
    }

    /** Every row of a step, one per loop iteration, first first. */
    private static List<JsonNode> rows(JsonNode execution, String stepId) {
        List<JsonNode> rows = new java.util.ArrayList<>();
        execution.path("steps").forEach(step -> {
            if (step.path("step_id").asText().equals(stepId)) {
                rows.add(step);
            }
        });
        rows.sort(java.util.Comparator.comparingInt(r -> r.path("iteration").asInt()));
        return rows;
    }

    private static String start(String type, String payload) throws Exception {
        HttpResponse<String> posted = OpsCoordinator.post("/api/events",
                "{\"type\":\"" + type + "\",\"payload\":" + payload + "}", true);
        assertThat(posted.statusCode()).as(posted.body()).isEqualTo(202);
        assertThat(JSON.readTree(posted.body()).has("warning")).isFalse();
        String eventId = JSON.readTree(posted.body()).path("event_id").asText();
        return await().atMost(Duration.ofSeconds(30)).until(
                () -> OpsDb.text("SELECT id FROM workflow_executions WHERE trigger_event_key = ?", eventId), id -> id != null);
    }

    private static JsonNode view(String executionId) throws Exception {
        HttpResponse<String> response = OpsCoordinator.get("/api/executions/" + executionId, true);
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        return JSON.readTree(response.body());
    }

    /** The execution once it ended, which must be with {@code status}. */
    private static JsonNode awaitStatus(String executionId, String status) {
        JsonNode ended = await().atMost(Duration.ofSeconds(60)).until(() -> view(executionId),
                execution -> !execution.path("status").asText().equals("running") && !execution.path("status").asText().equals("compensating"));
        assertThat(ended.path("status").asText()).as(ended.toString()).isEqualTo(status);
        return ended;
    }

    private static JsonNode step(JsonNode execution, String stepId) {
        for (JsonNode step : execution.path("steps")) {
            if (step.path("step_id").asText().equals(stepId)) {
                return step;
            }
        }
        throw new AssertionError("no step " + stepId + " in " + execution);
    }
}
