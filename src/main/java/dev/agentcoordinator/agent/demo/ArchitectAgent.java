package dev.agentcoordinator.agent.demo;

import dev.agentcoordinator.agent.ActionHandler;
import dev.agentcoordinator.agent.AgentReply;
import dev.agentcoordinator.agent.AgentRequest;

import java.util.Comparator;
import java.util.List;
import java.util.Map;

import static dev.agentcoordinator.agent.demo.DemoSupport.fields;
import static dev.agentcoordinator.agent.demo.DemoSupport.intOf;
import static dev.agentcoordinator.agent.demo.DemoSupport.object;
import static dev.agentcoordinator.agent.demo.DemoSupport.objects;
import static dev.agentcoordinator.agent.demo.DemoSupport.pickSkills;
import static dev.agentcoordinator.agent.demo.DemoSupport.requiredObject;
import static dev.agentcoordinator.agent.demo.DemoSupport.stableHash;
import static dev.agentcoordinator.agent.demo.DemoSupport.texts;

/** Demo "architect": owns the user's learning roadmap. */
final class ArchitectAgent {

    /** Skills below this level make the roadmap need an adjustment. */
    static final int TARGET_LEVEL = 3;

    private ArchitectAgent() {
    }

    static Map<String, ActionHandler> handlers() {
        return Map.of(
                "evaluate_roadmap_relevance", ArchitectAgent::evaluateRoadmapRelevance,
                "adjust_roadmap", ArchitectAgent::adjustRoadmap,
                "revert_roadmap", ArchitectAgent::revertRoadmap,
                "generate_roadmap", ArchitectAgent::generateRoadmap,
                "analyze_skill_demand", ArchitectAgent::analyzeSkillDemand,
                "analyze_skill_gaps", ArchitectAgent::analyzeSkillGaps,
                "plan_upskilling", ArchitectAgent::planUpskilling);
    }

    /** needs_adjustment when any updated skill is below level 3; a SKILL_GAP_CRITICAL signal raises the priority. */
    static AgentReply evaluateRoadmapRelevance(AgentRequest request) {
        List<Map<String, Object>> skills = objects(request.input("updated_skills"));
        List<String> belowTarget = skills.stream()
                .filter(skill -> intOf(skill.get("level"), 0) < TARGET_LEVEL)
                .map(skill -> String.valueOf(skill.get("name")))
                .toList();
        boolean critical = !request.signals("SKILL_GAP_CRITICAL").isEmpty()
                || skills.stream().anyMatch(skill -> intOf(skill.get("level"), 0) < SentinelAgent.CRITICAL_LEVEL);
        String priority = belowTarget.isEmpty() ? "none" : critical ? "high" : "normal";
        return AgentReply.ok(fields(
                "needs_adjustment", !belowTarget.isEmpty(),
                "analysis", fields(
                        "user_id", request.inputString("user_id"),
                        "skills_below_target", belowTarget,
                        "priority", priority,
                        "feedback", request.inputString("interview_feedback"))));
    }

    static AgentReply adjustRoadmap(AgentRequest request) {
        Map<String, Object> impact = requiredObject(request, "impact_analysis");
        String priority = String.valueOf(impact.getOrDefault("priority", "normal"));
        List<Map<String, Object>> changes = texts(impact.get("skills_below_target")).stream()
                .map(skill -> fields("skill", skill, "change", "add_module",
                        "module", skill + "_fundamentals", "priority", priority))
                .toList();
        return AgentReply.ok(fields("changes", changes, "adjustment_id", "adj-" + request.inputString("user_id")));
    }

    static AgentReply revertRoadmap(AgentRequest request) {
        String adjustmentId = request.inputString("adjustment_id", "adj-" + request.inputString("user_id"));
        return AgentReply.ok(fields("reverted", adjustmentId));
    }

    static AgentReply generateRoadmap(AgentRequest request) {
        List<Map<String, Object>> milestones = objects(request.input("skills")).stream()
                .filter(skill -> intOf(skill.get("level"), 0) < 5)
                .map(skill -> {
                    int level = intOf(skill.get("level"), 0);
                    return fields("skill", skill.get("name"), "from_level", level, "to_level", level + 1,
                            "weeks", 2 * (5 - level));
                })
                .toList();
        List<Object> targetJobs = objects(request.input("matches")).stream().map(match -> match.get("job_id")).toList();
        return AgentReply.ok(fields("roadmap", fields("milestones", milestones, "target_jobs", targetJobs)));
    }

    /** The three most demanded skills of the market data. */
    static AgentReply analyzeSkillDemand(AgentRequest request) {
        Map<String, Object> demand = object(requiredObject(request, "data").get("skill_demand"));
        List<Map<String, Object>> top = demand.entrySet().stream()
                .sorted(Comparator.comparingInt((Map.Entry<String, Object> e) -> intOf(e.getValue(), 0)).reversed()
                        .thenComparing(Map.Entry::getKey))
                .limit(3)
                .map(e -> fields("name", e.getKey(), "demand", intOf(e.getValue(), 0)))
                .toList();
        return AgentReply.ok(fields("skills", top));
    }

    static AgentReply analyzeSkillGaps(AgentRequest request) {
        String seed = request.inputString("job_id", "any-job") + "/" + request.inputString("user_id", "anyone");
        List<Map<String, Object>> gaps = pickSkills(seed, 2).stream()
                .map(skill -> fields("skill", skill, "missing_levels", 1 + stableHash(seed + skill) % 3))
                .toList();
        return AgentReply.ok(fields("gaps", gaps));
    }

    static AgentReply planUpskilling(AgentRequest request) {
        List<Map<String, Object>> plan = objects(request.input("gaps")).stream()
                .map(gap -> fields("skill", gap.get("skill"), "weeks", 2 * intOf(gap.get("missing_levels"), 1),
                        "resource", gap.get("skill") + " course"))
                .toList();
        return AgentReply.ok(fields("plan", plan));
    }
}
