package dev.agentcoordinator.engine;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import static dev.agentcoordinator.engine.TestCoordinator.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** Spec pattern 4: draft → refine until satisfied (bounded) → deliver; each iteration is a row. */
class IterativeRefinementTest {
    private static ScriptedAgents agents;

    @BeforeAll
    static void agents() throws Exception {
        agents = new ScriptedAgents(shared().connectionFactory()).echo("loop-agent", r -> switch (r.action()) {
            case "draft" -> Map.of("text", "draft of " + r.input().path("topic").asText());
            case "refine" -> {
                String text = r.input().path("draft").asText() + "+";
                long revisions = text.chars().filter(c -> c == '+').count();
                yield Map.of("text", text, "satisfied", revisions >= r.input().path("target").asInt());
            }
            default -> Map.of("delivered", r.input().path("text").asText());
        });
    }

    @AfterAll
    static void stop() throws Exception {
        agents.close();
    }

    private static String run(int targetRevision) {
        String eventId = sendEvent("T_LOOP", "{\"topic\":\"camel\",\"target_revision\":" + targetRevision + "}");
        await().atMost(Duration.ofSeconds(20)).until(() -> "completed".equals(executionStatus(executionOf(eventId))));
        return executionOf(eventId);
    }

    private static List<Map<String, Object>> iterations(String executionId) {
        return query("SELECT iteration, status, output->>'text' AS text, input->>'draft' AS draft FROM workflow_step_executions "
                + "WHERE execution_id = ? AND step_id = 'refine' ORDER BY iteration", executionId);
    }

    @Test
    void loopsUntilSatisfied() {
        String executionId = run(3);
        assertThat(iterations(executionId)).extracting(r -> r.get("text"))
                .containsExactly("draft of camel+", "draft of camel++", "draft of camel+++");
        assertThat(iterations(executionId)).extracting(r -> r.get("status")).containsOnly("completed");
        // each iteration ran on the previous one's output
        assertThat(iterations(executionId).get(2).get("draft")).isEqualTo("draft of camel++");
        assertThat(stepRow(executionId, "deliver").get("input").toString()).contains("draft of camel+++");
    }

    @Test
    void stopsAtTheIterationBound() {
        String executionId = run(99);
        assertThat(iterations(executionId)).hasSize(4);
        assertThat(stepStatuses(executionId)).containsEntry("deliver", "completed");
        assertThat(stepRow(executionId, "deliver").get("input").toString()).contains("draft of camel++++");
    }
}
