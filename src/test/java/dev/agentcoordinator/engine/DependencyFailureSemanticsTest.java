package dev.agentcoordinator.engine;

import com.fasterxml.jackson.databind.JsonNode;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static dev.agentcoordinator.engine.ExecutionProbe.*;
import static dev.agentcoordinator.engine.ScriptedAgents.Reply;
import static dev.agentcoordinator.engine.TestCoordinator.*;
import static org.assertj.core.api.Assertions.assertThat;

/** What a failed step does to its dependents and to the execution's verdict (allow_failure, allow_partial_success). */
class DependencyFailureSemanticsTest {
    private static ScriptedAgents agents;

    @BeforeAll
    static void agents() throws Exception {
        agents = new ScriptedAgents(shared().connectionFactory())
                .agent("f-partial-agent", r -> "optional".equals(r.action())
                        ? List.of(Reply.error("optional enrichment unavailable", false)) : List.of(Reply.ok(Map.of("ran", r.action()))))
                .agent("f-skip-agent", r -> "bad".equals(r.action())
                        ? List.of(Reply.error("bad step", false)) : List.of(Reply.ok(Map.of("ran", r.action()))));
    }

    @AfterAll
    static void stop() throws Exception {
        agents.close();
    }

    @Test
    void aToleratedFailureCompletesTheExecutionWhenPartialSuccessIsAllowed() {
        String executionId = awaitExecution(sendEvent("F_PARTIAL_ALLOWED", "{}"), "completed");

        assertThat(stepStatuses(executionId)).containsExactlyInAnyOrderEntriesOf(Map.of("main", "completed", "optional", "failed"));
        assertThat(execution(executionId).get("error")).isNull();
        // the spec's result: every step's StepResult by step id, the tolerated failure too
        JsonNode result = Json.parse(execution(executionId).get("result").toString());
        assertThat(result.path("main").path("status").asText()).isEqualTo("completed");
        assertThat(result.path("main").path("output").isObject()).isTrue();
        assertThat(result.path("main").path("completed_at").asText()).isNotEmpty();
        assertThat(result.path("optional").path("status").asText()).isEqualTo("failed");
        assertThat(result.path("optional").path("error").asText()).isNotEmpty();
    }

    @Test
    void aToleratedFailureStillFailsTheExecutionWhenPartialSuccessIsNotAllowed() {
        String executionId = awaitExecution(sendEvent("F_PARTIAL_DENIED", "{}"), "failed");

        assertThat(stepStatuses(executionId)).containsExactlyInAnyOrderEntriesOf(Map.of("main", "completed", "optional", "failed"));
        assertThat(execution(executionId).get("error").toString()).contains("optional");
    }

    @Test
    void aFailedDependencySkipsItsDependentsTransitivelyEvenWhenAnotherDependencyCompleted() {
        String executionId = awaitExecution(sendEvent("F_SKIP", "{}"), "failed");

        assertThat(stepStatuses(executionId)).containsExactlyInAnyOrderEntriesOf(Map.of(
                "good", "completed", "bad", "failed", "child", "skipped", "grandchild", "skipped", "mixed", "skipped"));
        assertThat(stepRow(executionId, "child")).containsEntry("error", "dependency bad failed");
        assertThat(stepRow(executionId, "mixed")).containsEntry("error", "dependency bad failed");
        assertThat(stepRow(executionId, "grandchild")).containsEntry("error", "every dependency was skipped (child) after step bad failed further up");
        assertThat(requests(agents, executionId, "child")).isEmpty();
        assertThat(requests(agents, executionId, "grandchild")).isEmpty();
        assertThat(requests(agents, executionId, "mixed")).isEmpty();
        assertThat(execution(executionId).get("error").toString()).isEqualTo("failed steps: bad");
    }
}
