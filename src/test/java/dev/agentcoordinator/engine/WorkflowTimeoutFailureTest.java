package dev.agentcoordinator.engine;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import static dev.agentcoordinator.engine.ExecutionProbe.*;
import static dev.agentcoordinator.engine.ScriptedAgents.Reply;
import static dev.agentcoordinator.engine.TestCoordinator.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;
import static org.awaitility.Awaitility.await;

/** The workflow's timeout_ms bounds the whole execution: it ends failed and nothing more is dispatched. */
class WorkflowTimeoutFailureTest {
    private static ScriptedAgents agents;

    @BeforeAll
    static void agents() throws Exception {
        agents = new ScriptedAgents(shared().connectionFactory())
                .agent("f-wftimeout-agent", r -> "quick".equals(r.action()) ? List.of(Reply.ok(Map.of("done", true)))
                        : "quick-later".equals(r.action()) ? List.of(Reply.ok(Map.of("done", true)).after(200)) : List.of());
    }

    @AfterAll
    static void stop() throws Exception {
        agents.close();
    }

    @Test
    void anExecutionPastItsTimeoutFailsSettlesItsStepsAndPublishesOnFailure() {
        String executionId = awaitExecution(sendEvent("F_WORKFLOW_TIMEOUT", "{}"), "failed");

        assertThat(execution(executionId).get("error").toString()).contains("workflow timed out");
        assertThat(stepStatuses(executionId)).containsExactlyInAnyOrderEntriesOf(
                Map.of("quick", "completed", "endless", "failed", "after", "skipped"));
        assertThat(stepRow(executionId, "endless").get("error").toString()).contains("workflow timed out");
        assertThat(attempts(executionId, "endless")).last()
                .satisfies(a -> assertThat(a.get("status")).isEqualTo("timed_out"));
        int dispatched = requests(agents, executionId, "endless").size();
        // the step had retries left, but none is dispatched once the execution is over
        await().during(Duration.ofMillis(700)).atMost(Duration.ofSeconds(3)).until(() ->
                requests(agents, executionId, "endless").size() == dispatched && requests(agents, executionId, "after").isEmpty());
        assertThat(query("SELECT count(*) AS n FROM step_attempts WHERE execution_id = ? AND step_id = 'endless'", executionId))
                .first().satisfies(r -> assertThat(((Number) r.get("n")).intValue()).isEqualTo(dispatched));
        await().atMost(Duration.ofSeconds(10)).until(() -> !query("SELECT 1 FROM agent_events WHERE type = 'F_WORKFLOW_TIMEOUT_FAILED' "
                + "AND payload->>'execution_id' = ? AND payload->>'status' = 'failed'", executionId).isEmpty());
        // the failed steps, as every other way of sending the event lists them: not the step the timeout skipped
        assertThat(query("SELECT f->>'step_id' AS step, f->>'status' AS status, f->>'error' AS error FROM agent_events,"
                + " jsonb_array_elements(payload->'failures') f WHERE type = 'F_WORKFLOW_TIMEOUT_FAILED' AND payload->>'execution_id' = ?", executionId))
                .extracting(r -> r.get("step"), r -> r.get("status"), r -> r.get("error"))
                .containsExactly(tuple("endless", "failed", "workflow timed out after 3000 ms"));

        // retried an hour after it started, it times out again, timed from the retry
        assertThat(execution(executionId).get("error").toString()).isEqualTo("workflow timed out after 3000 ms");
        query("UPDATE workflow_executions SET started_at = started_at - interval '1 hour' WHERE id = ? RETURNING id", executionId);
        assertThat(ExecutionProbe.post("/api/executions/" + executionId + "/retry", null).statusCode()).isEqualTo(202);
        await().atMost(Duration.ofSeconds(10)).until(() -> "failed".equals(executionStatus(executionId))
                && execution(executionId).get("retries").equals(1));
        assertThat(execution(executionId).get("error").toString()).isEqualTo("workflow timed out after 3000 ms");
    }

    /**
     * An attempt's deadline, in its request and over HTTP, is no later than its execution's: the coordinator gives up
     * on the attempt then. A step started after the execution with its own timeout, or the workflow's, from its start
     * was told a deadline past it (by as long as it started after the execution, up to the whole timeout).
     */
    @Test
    void noAttemptIsGivenADeadlinePastItsExecutions() {
        String executionId = awaitExecution(sendEvent("F_DEADLINE_WITHIN", "{}"), "running");
        await().atMost(Duration.ofSeconds(20)).until(() -> requests(agents, executionId, "inherits").size() == 1
                && requests(agents, executionId, "own").size() == 1 && requests(agents, executionId, "short").size() == 1);
        com.fasterxml.jackson.databind.JsonNode view = Json.parse(get("/api/executions/" + executionId).body());
        java.time.Instant executionDeadline = java.time.Instant.parse(view.path("deadline").asText());
        for (String step : List.of("inherits", "own")) {
            assertThat(java.time.Instant.parse(requests(agents, executionId, step).get(0).request().path("deadline").asText()))
                    .as("the request of %s", step).isBeforeOrEqualTo(executionDeadline.plusMillis(1));   // (the API's is to the ms)
        }
        // one whose own timeout ends first keeps it
        assertThat(java.time.Instant.parse(requests(agents, executionId, "short").get(0).request().path("deadline").asText()))
                .isBefore(executionDeadline);
        for (com.fasterxml.jackson.databind.JsonNode step : view.path("steps")) {
            if (!step.path("deadline").isNull()) {
                assertThat(java.time.Instant.parse(step.path("deadline").asText())).as(step.path("step_id").asText()).isBeforeOrEqualTo(executionDeadline.plusMillis(1));
            }
        }
        assertThat(post("/api/executions/" + executionId + "/cancel", null).statusCode()).isEqualTo(200);
    }

    /**
     * When the execution's deadline came before its attempt's and a sweep finds both passed, the execution timed out:
     * its error, and its step's, say so, not the attempt's timeout (nor "failed steps").
     */
    @Test
    void anExecutionWhoseDeadlineCameFirstTimesOutAlthoughItsAttemptsDeadlinePassedToo() {
        List<String> executions = java.util.stream.IntStream.range(0, 8).mapToObj(i -> sendEvent("F_WORKFLOW_TIMEOUT_FIRST", "{}"))
                .map(eventId -> awaitExecution(eventId, "running")).toList();
        await().atMost(Duration.ofSeconds(20)).until(() -> executions.stream().allMatch(e -> "running".equals(stepStatuses(e).get("waits"))));
        // both past in one transaction, the execution's a second before its attempt's
        query("WITH moved AS (UPDATE workflow_executions SET deadline = now() - interval '2 seconds' WHERE id = ANY (?) RETURNING id)"
                + " UPDATE workflow_step_executions s SET deadline = now() - interval '1 second' FROM moved"
                + " WHERE s.execution_id = moved.id AND s.step_id = 'waits' RETURNING s.id", (Object) executions.toArray(String[]::new));
        await().atMost(Duration.ofSeconds(10)).until(() -> executions.stream().allMatch(e -> "failed".equals(executionStatus(e))));
        assertThat(executions).allSatisfy(e -> {
            assertThat(execution(e).get("error").toString()).startsWith("workflow timed out after");
            assertThat(stepRow(e, "waits").get("error").toString()).startsWith("workflow timed out after");
            assertThat(stepStatuses(e)).containsEntry("after", "skipped");
        });
    }
}
