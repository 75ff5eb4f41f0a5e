package dev.agentcoordinator.definition;

import com.fasterxml.jackson.databind.node.BooleanNode;
import com.fasterxml.jackson.databind.node.DoubleNode;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The workflows shipped in routes/workflows load, validate, and say what the spec says. */
class ShippedWorkflowsTest {
    static final Path SHIPPED = Path.of("routes/workflows");
    private static WorkflowCatalog catalog;

    @BeforeAll
    static void load() throws InvalidDefinitionsException {
        catalog = WorkflowCatalog.load(SHIPPED);
    }

    @Test
    void allSixLoadAndValidate() {
        assertThat(catalog.all()).extracting(WorkflowDefinition::id).containsExactly(
                "interview_completed", "job_matched", "market_update", "response_refinement", "resume_uploaded", "roadmap_revision");
        assertThat(catalog.all()).extracting(WorkflowDefinition::trigger).containsExactly(
                "INTERVIEW_COMPLETED", "JOB_MATCHED", "MARKET_UPDATE", "RESPONSE_REQUESTED", "RESUME_UPLOADED",
                "ROADMAP_REVISION_REQUESTED");
    }

    /** The spec's interviewCompletedWorkflow, transcribed by hand, plus the compensation this project adds. */
    @Test
    void interviewCompletedIsTheSpecWorkflow() {
        WorkflowDefinition expected = new WorkflowDefinition(
                "interview_completed", "Interview Completed Workflow", "INTERVIEW_COMPLETED", 1,
                List.of(
                        step("analyze_interview", "interviewer", "analyze_transcript", List.of(), null,
                                mappings("interview_id", InputMapping.fromTrigger("interview_id"),
                                        "user_id", InputMapping.fromTrigger("user_id")), null, null),
                        step("extract_skill_signals", "sentinel", "extract_skills_from_interview", List.of("analyze_interview"), null,
                                mappings("analysis", InputMapping.fromStep("analyze_interview", "analysis"),
                                        "user_id", InputMapping.fromTrigger("user_id")), null, null),
                        step("update_skills", "sentinel", "update_user_skills", List.of("extract_skill_signals"), null,
                                mappings("skill_signals", InputMapping.fromStep("extract_skill_signals", "skills"),
                                        "user_id", InputMapping.fromTrigger("user_id")), null, null),
                        step("check_roadmap_impact", "architect", "evaluate_roadmap_relevance", List.of("update_skills"), null,
                                mappings("updated_skills", InputMapping.fromStep("update_skills", "skills"),
                                        "interview_feedback", InputMapping.fromStep("analyze_interview", "feedback"),
                                        "user_id", InputMapping.fromTrigger("user_id")), null, null),
                        step("adjust_roadmap", "architect", "adjust_roadmap", List.of("check_roadmap_impact"),
                                new StepCondition("check_roadmap_impact", "needs_adjustment", "eq", BooleanNode.TRUE),
                                mappings("impact_analysis", InputMapping.fromStep("check_roadmap_impact", "analysis"),
                                        "user_id", InputMapping.fromTrigger("user_id")), null,
                                new CompensationSpec("architect", "revert_roadmap", compensationInputs(), null)),
                        step("notify_user", "action", "send_interview_summary", List.of("analyze_interview", "adjust_roadmap"), null,
                                mappings("analysis", InputMapping.fromStep("analyze_interview", "analysis"),
                                        "roadmap_changes", InputMapping.fromStep("adjust_roadmap", "changes"),
                                        "user_id", InputMapping.fromTrigger("user_id")),
                                new StepConfig(null, null, true, null), null)),
                "INTERVIEW_WORKFLOW_COMPLETED", "INTERVIEW_WORKFLOW_FAILED",
                new WorkflowConfig(300_000L, 2, true));

        WorkflowDefinition actual = catalog.byTrigger("INTERVIEW_COMPLETED").orElseThrow();

        // step by step first, so a difference is reported where it is
        for (int i = 0; i < expected.steps().size(); i++) {
            assertThat(actual.steps().get(i)).as("step %d", i).isEqualTo(expected.steps().get(i));
        }
        assertThat(actual).isEqualTo(expected);
        // input order is part of the request the agent sees: keep the spec's
        assertThat(actual.step("check_roadmap_impact").orElseThrow().inputMapping().keySet())
                .containsExactly("updated_skills", "interview_feedback", "user_id");
    }

    @Test
    void resumeUploadedIsASequentialPipeline() {
        WorkflowDefinition wf = catalog.byTrigger("RESUME_UPLOADED").orElseThrow();
        assertThat(new StepGraph(wf).topologicalOrder()).containsExactly("parse_resume", "extract_skills", "match_jobs", "generate_roadmap");
        assertThat(wf.step("generate_roadmap").orElseThrow().inputMapping()).containsEntry("matches", InputMapping.fromStep("match_jobs", "matches"));
        assertThat(wf.onFailure()).isEqualTo("RESUME_WORKFLOW_FAILED");
    }

    @Test
    void marketUpdateFansOutAndIn() {
        WorkflowDefinition wf = catalog.byTrigger("MARKET_UPDATE").orElseThrow();
        assertThat(wf.dependentsOf("fetch_data")).extracting(WorkflowStep::id)
                .containsExactly("analyze_trends", "analyze_salaries", "analyze_skills");
        WorkflowStep report = wf.step("compile_report").orElseThrow();
        assertThat(report.agent()).isEqualTo("action");
        assertThat(report.dependsOn()).containsExactly("analyze_trends", "analyze_salaries", "analyze_skills");
        assertThat(report.inputMapping()).containsEntry("salaries", InputMapping.fromStep("analyze_salaries", "salaries"));
    }

    @Test
    void jobMatchedBranchesOnTheScore() {
        WorkflowDefinition wf = catalog.byTrigger("JOB_MATCHED").orElseThrow();
        assertThat(wf.step("celebrate_match").orElseThrow().condition())
                .isEqualTo(new StepCondition("evaluate_match", "score", "gte", DoubleNode.valueOf(0.8)));
        assertThat(wf.step("deep_dive").orElseThrow().condition().operator()).isEqualTo("lt");
        assertThat(wf.step("prepare_application").orElseThrow().dependsOn()).containsExactly("celebrate_match", "plan_upskilling");
        assertThat(wf.step("plan_upskilling").orElseThrow().inputMapping()).containsEntry("gaps", InputMapping.fromStep("deep_dive", "gaps"));
    }

    @Test
    void responseRefinementLoopsUntilSatisfied() {
        WorkflowDefinition wf = catalog.byTrigger("RESPONSE_REQUESTED").orElseThrow();
        WorkflowStep evaluate = wf.step("evaluate_response").orElseThrow();
        assertThat(evaluate.isLoop()).isTrue();
        assertThat(evaluate.agent()).isNotEqualTo(wf.step("refine_response").orElseThrow().agent());
        assertThat(evaluate.loop().maxIterations()).isEqualTo(4);
        assertThat(evaluate.loop().until()).isEqualTo(new LoopSpec.LoopCondition("satisfied", "eq", BooleanNode.TRUE));
        assertThat(evaluate.loop().feedback()).isEqualTo(Map.of("draft", "draft", "critique", "critique"));
        assertThat(wf.iterationSteps(evaluate)).containsExactly("refine_response", "evaluate_response");
    }

    private static WorkflowStep step(String id, String agent, String action, List<String> dependsOn, StepCondition condition,
                                     Map<String, InputMapping> inputs, StepConfig config, CompensationSpec compensate) {
        return new WorkflowStep(id, agent, action, null, dependsOn, inputs, condition, config, null, compensate, null);
    }

    private static Map<String, InputMapping> mappings(Object... keysAndMappings) {
        Map<String, InputMapping> m = new LinkedHashMap<>();
        for (int i = 0; i < keysAndMappings.length; i += 2) {
            m.put((String) keysAndMappings[i], (InputMapping) keysAndMappings[i + 1]);
        }
        return m;
    }

    private static Map<String, CompensationSpec.CompensationInput> compensationInputs() {
        Map<String, CompensationSpec.CompensationInput> m = new LinkedHashMap<>();
        m.put("adjustment_id", new CompensationSpec.CompensationInput(null, "adjustment_id", null, null, null, null));
        m.put("user_id", new CompensationSpec.CompensationInput(null, null, null, null, "user_id", null));
        return m;
    }
}
