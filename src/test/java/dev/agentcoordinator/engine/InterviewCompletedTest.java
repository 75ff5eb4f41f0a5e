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

/**
 * The spec's interview_completed workflow, as shipped in routes/workflows: adjust_roadmap runs only
 * when check_roadmap_impact says so, and notify_user runs either way.
 */
class InterviewCompletedTest {
    private static ScriptedAgents agents;

    @BeforeAll
    static void agents() throws Exception {
        agents = new ScriptedAgents(shared().connectionFactory())
                .echo("interviewer", r -> Map.of("analysis", Map.of("score", 71), "feedback", "structure answers"))
                .echo("sentinel", r -> Map.of("skills", List.of(Map.of("name", "system_design", "level", r.input().path("user_id").asText().equals("needs-work") ? 2 : 4))))
                .echo("architect", r -> switch (r.action()) {
                    case "evaluate_roadmap_relevance" -> Map.of("needs_adjustment",
                            r.input().path("updated_skills").path(0).path("level").asInt() < 3, "analysis", Map.of("gap", "system_design"));
                    case "adjust_roadmap" -> Map.of("changes", List.of("add system design module"), "adjustment_id", "adj-1");
                    default -> Map.of("reverted", true);
                })
                .echo("action", r -> Map.of("notified", true, "had_changes", r.input().has("roadmap_changes")));
    }

    @AfterAll
    static void stop() throws Exception {
        agents.close();
    }

    private static String run(String userId) {
        String eventId = sendEvent("INTERVIEW_COMPLETED", "{\"interview_id\":\"i-1\",\"user_id\":\"" + userId + "\"}");
        await().atMost(Duration.ofSeconds(20)).until(() -> "completed".equals(executionStatus(executionOf(eventId))));
        return executionOf(eventId);
    }

    @Test
    void adjustsTheRoadmapWhenTheImpactCallsForIt() {
        String executionId = run("needs-work");
        assertThat(stepStatuses(executionId)).containsExactlyInAnyOrderEntriesOf(Map.of(
                "analyze_interview", "completed", "extract_skill_signals", "completed", "update_skills", "completed",
                "check_roadmap_impact", "completed", "adjust_roadmap", "completed", "notify_user", "completed"));
        assertThat(stepRow(executionId, "notify_user").get("input").toString()).contains("\"roadmap_changes\": [\"add system design module\"]");
        assertThat(stepRow(executionId, "check_roadmap_impact").get("input").toString())
                .contains("\"interview_feedback\": \"structure answers\"", "\"user_id\": \"needs-work\"");
    }

    @Test
    void skipsTheAdjustmentButStillNotifiesTheUser() {
        String executionId = run("strong");
        assertThat(stepStatuses(executionId)).containsEntry("adjust_roadmap", "skipped").containsEntry("notify_user", "completed");
        assertThat(stepRow(executionId, "adjust_roadmap").get("error").toString()).contains("condition not met");
        assertThat(stepRow(executionId, "notify_user").get("input").toString()).doesNotContain("roadmap_changes");
        // the spec's INTERVIEW_WORKFLOW_COMPLETED: results holds every step's StepResult, the skipped one too
        await().atMost(Duration.ofSeconds(10)).until(() -> !query(
                "SELECT 1 FROM agent_events WHERE type = 'INTERVIEW_WORKFLOW_COMPLETED' AND payload->>'execution_id' = ?", executionId).isEmpty());
        Map<String, Object> results = query("SELECT payload->'results'->'analyze_interview'->>'status' AS analyzed,"
                + " payload->'results'->'analyze_interview'->'output'->'analysis' IS NOT NULL AS analysis,"
                + " payload->'results'->'adjust_roadmap'->>'status' AS adjusted, payload->'results'->'adjust_roadmap'->>'error' AS why,"
                + " payload->'results' = (SELECT result FROM workflow_executions WHERE id = ?) AS stored"
                + " FROM agent_events WHERE type = 'INTERVIEW_WORKFLOW_COMPLETED' AND payload->>'execution_id' = ?", executionId, executionId).get(0);
        assertThat(results).containsEntry("analyzed", "completed").containsEntry("analysis", true)
                .containsEntry("adjusted", "skipped").containsEntry("stored", true);
        assertThat(results.get("why").toString()).contains("condition not met");
    }
}
