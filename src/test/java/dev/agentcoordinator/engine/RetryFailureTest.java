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

/** Retries per step config, agents' non-retryable errors and attempts that time out, as recorded in PostgreSQL. */
class RetryFailureTest {
    private static ScriptedAgents agents;

    @BeforeAll
    static void agents() throws Exception {
        agents = new ScriptedAgents(shared().connectionFactory())
                .agent("f-retry-agent", r -> switch (r.action()) {
                    case "flaky" -> switch (r.input().path("mode").asText()) {
                        case "read_timeout" -> List.of(Reply.error("java.net.SocketTimeoutException: Read timed out", false));
                        case "timeout_text" -> List.of(Reply.error(r.request().path("attempt").asInt() == 1
                                ? "attempt 1 timed out after 5 ms" : "workflow timed out after 30000 ms", true));
                        case "once" -> r.request().path("attempt").asInt() == 1
                                ? List.of(Reply.error("rate limited", true)) : List.of(Reply.ok(Map.of("ok", true)));
                        default -> List.of(Reply.error("still rate limited (attempt " + r.request().path("attempt").asInt() + ")", true));
                    };
                    default -> List.of(Reply.ok(Map.of("ran", r.action())));
                })
                .agent("f-fatal-agent", r -> List.of(Reply.error("invalid candidate id", false)))
                .agent("f-steptimeout-agent", r -> List.of())
                .agent("f-retry-done-agent", r -> CHECKED_ONCE.add(r.request().path("execution_id").asText())
                        ? List.of(Reply.error("not yet", false)) : List.of(Reply.ok(Map.of("checked", true))));
    }

    private static final java.util.Set<String> CHECKED_ONCE = java.util.concurrent.ConcurrentHashMap.newKeySet();

    /**
     * The retry runs check and adjust again; notify, which completed the first time on first alone, is not
     * run again, and the execution ends as adjust completes: its walk, reaching notify completed, checks the end. It found notify "already decided" and stopped there, leaving the execution running until
     * the stalled-execution sweep took it up (only after 50 sweep periods without a change).
     */
    @Test
    void aRetryWhoseResetStepsLeadToACompletedDependentEndsWhenTheLastOneCompletes() {
        String executionId = awaitExecution(sendEvent("F_RETRY_DONE_DEPENDENT", "{}"), "failed");
        assertThat(stepStatuses(executionId)).containsEntry("check", "failed").containsEntry("adjust", "skipped")
                .containsEntry("notify", "completed");

        assertThat(ExecutionProbe.post("/api/executions/" + executionId + "/retry", null).statusCode()).isEqualTo(202);
        await().atMost(Duration.ofSeconds(20)).until(() -> "completed".equals(executionStatus(executionId)));

        assertThat(requests(agents, executionId, "notify")).hasSize(1);
        long endedAfterLastStepMs = ((Number) query("SELECT EXTRACT(EPOCH FROM e.completed_at - max(s.completed_at)) * 1000 AS ms "
                + "FROM workflow_executions e JOIN workflow_step_executions s ON s.execution_id = e.id WHERE e.id = ? "
                + "GROUP BY e.completed_at", executionId).get(0).get("ms")).longValue();
        long stallMs = SupervisorRoutes.STALLED_AFTER_PERIODS * shared().settings().supervisorPeriodMs();
        assertThat(endedAfterLastStepMs).as("ended by adjust's own walk, not by the stalled-execution sweep").isLessThan(stallMs);
    }

    @AfterAll
    static void stop() throws Exception {
        agents.close();
    }

    @Test
    void aRetryableErrorIsRetriedAndTheSecondAttemptCompletes() {
        String executionId = awaitExecution(sendEvent("F_RETRY", "{\"mode\":\"once\"}"), "completed");

        assertThat(stepRow(executionId, "flaky")).containsEntry("status", "completed").containsEntry("attempt", 2);
        assertThat(attempts(executionId, "flaky"))
                .extracting(r -> r.get("attempt"), r -> r.get("status"))
                .containsExactly(tuple(1, "failed"), tuple(2, "completed"));
        assertThat(attempts(executionId, "flaky").get(0).get("error")).as("the agent's error as it wrote it").isEqualTo("rate limited");
        assertThat(requests(agents, executionId, "flaky")).hasSize(2);
        assertThat(requests(agents, executionId, "after")).hasSize(1);
        assertThat(stepRow(executionId, "after")).containsEntry("status", "completed");
    }

    @Test
    void exhaustedRetriesFailTheStepAndTheExecution() {
        String executionId;
        try (CapturedLog progress = CapturedLog.of(Endpoints.PROGRESS_LOG)) {
            executionId = awaitExecution(sendEvent("F_RETRY", "{\"mode\":\"always\"}"), "failed");
            // a WARN, as its attempts' failures were: an alert on levels sees the execution's too
            await().atMost(Duration.ofSeconds(5)).until(() -> progress.lines().stream().anyMatch(line -> line.contains(" " + executionId + " ")));
            // with why: the step that failed and its error
            assertThat(progress.lines()).filteredOn(line -> line.startsWith("WARN execution " + executionId + " of f_retry")
                    && line.endsWith(" failed: step flaky: still rate limited (attempt 3)")).hasSize(1);
        }

        assertThat(attempts(executionId, "flaky"))
                .extracting(r -> r.get("attempt"), r -> r.get("status"))
                .containsExactly(tuple(1, "failed"), tuple(2, "failed"), tuple(3, "failed"));
        assertThat(stepRow(executionId, "flaky")).containsEntry("status", "failed").containsEntry("attempt", 3);
        assertThat(stepRow(executionId, "flaky").get("error")).isEqualTo("still rate limited (attempt 3)");
        assertThat(execution(executionId).get("error").toString()).contains("flaky");
        assertThat(stepRow(executionId, "after")).containsEntry("status", "skipped");
        assertThat(requests(agents, executionId, "flaky")).hasSize(3);
        assertThat(requests(agents, executionId, "after")).isEmpty();
    }

    /** The agent answered, with an error of its own that mentions a timeout: the coordinator did not time it out. */
    @Test
    void anAgentsErrorThatMentionsATimeoutIsRecordedAsAFailedAttempt() {
        String executionId = awaitExecution(sendEvent("F_RETRY", "{\"mode\":\"read_timeout\"}"), "failed");

        assertThat(attempts(executionId, "flaky"))
                .extracting(r -> r.get("attempt"), r -> r.get("status"))
                .containsExactly(tuple(1, "failed"));
        assertThat(attempts(executionId, "flaky").get(0).get("error").toString()).isEqualTo("java.net.SocketTimeoutException: Read timed out");
    }

    /**
     * An agent's error worded as the coordinator's own timeouts (passed on from a workflow the agent ran) is the
     * agent's failure: its attempt's and its execution's deadlines had not passed.
     */
    @Test
    void anAgentsErrorWordedAsACoordinatorTimeoutIsAFailedAttempt() {
        String executionId = awaitExecution(sendEvent("F_RETRY", "{\"mode\":\"timeout_text\"}"), "failed");

        assertThat(attempts(executionId, "flaky"))
                .extracting(r -> r.get("attempt"), r -> r.get("status"), r -> r.get("error"))
                .containsExactly(tuple(1, "failed", "attempt 1 timed out after 5 ms"),
                        tuple(2, "failed", "workflow timed out after 30000 ms"),
                        tuple(3, "failed", "workflow timed out after 30000 ms"));
    }

    @Test
    void aNonRetryableErrorEndsTheStepAtTheFirstAttempt() {
        String executionId = awaitExecution(sendEvent("F_FATAL", "{}"), "failed");

        assertThat(attempts(executionId, "doomed"))
                .extracting(r -> r.get("attempt"), r -> r.get("status"))
                .containsExactly(tuple(1, "failed"));
        assertThat(stepRow(executionId, "doomed")).containsEntry("status", "failed").containsEntry("attempt", 1);
        assertThat(stepRow(executionId, "doomed").get("error")).isEqualTo("invalid candidate id");
        assertThat(requests(agents, executionId, "doomed")).hasSize(1);
    }

    @Test
    void attemptsThatTimeOutAreRetriedThenFailTheStepAndSkipItsDependents() {
        String executionId;
        List<String> progress;
        try (CapturedLog log = CapturedLog.of(Endpoints.PROGRESS_LOG)) {
            executionId = awaitExecution(sendEvent("F_STEP_TIMEOUT", "{}"), "failed");
            progress = log.lines();
        }
        // each timeout is told with its attempt, its timeout and what follows
        assertThat(progress).filteredOn(line -> line.startsWith("WARN step ") && line.contains(executionId) && line.contains("timed out")).containsExactly(
                "WARN step silent: attempt 1 timed out after 300 ms; its next attempt follows its backoff [execution " + executionId + "]",
                "WARN step silent: attempt 2 timed out after 300 ms; no attempts left: it failed [execution " + executionId + "]");

        assertThat(attempts(executionId, "silent"))
                .extracting(r -> r.get("attempt"), r -> r.get("status"))
                .containsExactly(tuple(1, "timed_out"), tuple(2, "timed_out"));
        assertThat(attempts(executionId, "silent")).allSatisfy(r -> assertThat(r.get("error").toString()).contains("timed out after 300 ms"));
        assertThat(stepRow(executionId, "silent")).containsEntry("status", "failed");
        assertThat(stepRow(executionId, "silent").get("error").toString()).contains("timed out");
        assertThat(stepRow(executionId, "next")).containsEntry("status", "skipped").containsEntry("error", "dependency silent failed");
        assertThat(stepRow(executionId, "last")).containsEntry("status", "skipped");
        assertThat(requests(agents, executionId, "silent")).hasSize(2);
        assertThat(requests(agents, executionId, "next")).isEmpty();
    }
}
