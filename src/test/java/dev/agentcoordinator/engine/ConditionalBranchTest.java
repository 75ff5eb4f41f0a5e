package dev.agentcoordinator.engine;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Map;

import static dev.agentcoordinator.engine.TestCoordinator.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** Spec pattern 3: analyze → [good] celebrate | [needs work] deep_dive → overhaul; wrap_up after either. */
class ConditionalBranchTest {
    private static ScriptedAgents agents;

    @BeforeAll
    static void agents() throws Exception {
        agents = new ScriptedAgents(shared().connectionFactory())
                .echo("cond-agent", r -> r.action().equals("analyze") ? Map.of("score", r.input().path("score").asDouble()) : Map.of("done", r.action()));
    }

    @AfterAll
    static void stop() throws Exception {
        agents.close();
    }

    private static String run(double score) {
        String eventId = sendEvent("T_CONDITIONAL", "{\"score\":" + score + "}");
        await().atMost(Duration.ofSeconds(20)).until(() -> "completed".equals(executionStatus(executionOf(eventId))));
        return executionOf(eventId);
    }

    @Test
    void highScoreTakesTheCelebrateBranch() {
        String executionId = run(0.93);
        assertThat(stepStatuses(executionId)).containsAllEntriesOf(Map.of(
                "analyze", "completed", "celebrate", "completed", "deep_dive", "skipped", "overhaul", "skipped", "wrap_up", "completed"));
        assertThat(stepRow(executionId, "deep_dive").get("error").toString()).startsWith("condition not met: analyze.score lt 0.8 (was 0.93)");
        assertThat(stepRow(executionId, "overhaul").get("error").toString()).startsWith("branch not taken");
    }

    @Test
    void lowScoreTakesTheDeepDiveBranch() {
        String executionId = run(0.4);
        assertThat(stepStatuses(executionId)).containsAllEntriesOf(Map.of(
                "analyze", "completed", "celebrate", "skipped", "deep_dive", "completed", "overhaul", "completed", "wrap_up", "completed"));
    }
}
