package dev.agentcoordinator.agent.demo;

import dev.agentcoordinator.agent.ActionHandler;
import dev.agentcoordinator.agent.AgentReply;
import dev.agentcoordinator.agent.AgentRequest;

import java.util.Comparator;
import java.util.List;
import java.util.Map;

import static dev.agentcoordinator.agent.demo.DemoSupport.SKILL_POOL;
import static dev.agentcoordinator.agent.demo.DemoSupport.fields;
import static dev.agentcoordinator.agent.demo.DemoSupport.intOf;
import static dev.agentcoordinator.agent.demo.DemoSupport.object;
import static dev.agentcoordinator.agent.demo.DemoSupport.objects;
import static dev.agentcoordinator.agent.demo.DemoSupport.requiredObject;
import static dev.agentcoordinator.agent.demo.DemoSupport.round2;
import static dev.agentcoordinator.agent.demo.DemoSupport.stableHash;

/** Demo "strategist": job market, job matching and drafting answers. */
final class StrategistAgent {

    /** What each refinement adds to the draft; the demo evaluator counts them. */
    static final String REFINED_MARK = " (refined)";

    private StrategistAgent() {
    }

    static Map<String, ActionHandler> handlers() {
        return Map.of(
                "match_jobs", StrategistAgent::matchJobs,
                "fetch_market_data", StrategistAgent::fetchMarketData,
                "analyze_trends", StrategistAgent::analyzeTrends,
                "evaluate_match", StrategistAgent::evaluateMatch,
                "draft_response", StrategistAgent::draftResponse,
                "refine_response", StrategistAgent::refineResponse,
                "evaluate_and_refine", StrategistAgent::evaluateAndRefine);
    }

    /** One job per skill, scored by the skill's level (level 5 = 1.0). */
    static AgentReply matchJobs(AgentRequest request) {
        List<Map<String, Object>> matches = objects(request.input("skills")).stream()
                .map(skill -> fields(
                        "job_id", "job-" + skill.get("name"),
                        "title", skill.get("name") + " engineer",
                        "score", round2(intOf(skill.get("level"), 0) / 5.0)))
                .sorted(Comparator.comparingDouble((Map<String, Object> m) -> (Double) m.get("score")).reversed())
                .toList();
        return AgentReply.ok(fields("matches", matches));
    }

    static AgentReply fetchMarketData(AgentRequest request) {
        String region = request.inputString("region", "global");
        Map<String, Object> demand = fields();
        SKILL_POOL.forEach(skill -> demand.put(skill, 40 + stableHash(region + "/" + skill) % 61));
        Map<String, Object> salaries = fields();
        List.of("backend_engineer", "data_engineer", "architect", "tester")
                .forEach(role -> salaries.put(role, 50_000 + 1_000 * (stableHash(region + "/" + role) % 80)));
        return AgentReply.ok(fields("data", fields(
                "region", region,
                "postings", 1_000 + stableHash(region) % 9_000,
                "skill_demand", demand,
                "salaries", salaries)));
    }

    static AgentReply analyzeTrends(AgentRequest request) {
        Map<String, Object> demand = object(requiredObject(request, "data").get("skill_demand"));
        List<Map<String, Object>> trends = demand.entrySet().stream()
                .map(e -> fields("skill", e.getKey(), "demand", intOf(e.getValue(), 0),
                        "direction", intOf(e.getValue(), 0) >= 75 ? "rising" : "stable"))
                .sorted(Comparator.comparingInt((Map<String, Object> t) -> (Integer) t.get("demand")).reversed()
                        .thenComparing(t -> (String) t.get("skill")))
                .toList();
        return AgentReply.ok(fields("trends", trends));
    }

    static AgentReply evaluateMatch(AgentRequest request) {
        return AgentReply.ok(fields(
                "score", request.inputDouble("match_score", 0.5),
                "job_id", request.inputString("job_id"),
                "user_id", request.inputString("user_id")));
    }

    static AgentReply draftResponse(AgentRequest request) {
        return AgentReply.ok(fields("draft", "Draft: " + request.requiredInputString("question"), "revision", 0));
    }

    /** Appends one refinement per iteration (a real agent would act on the evaluator's critique, which it gets too). */
    static AgentReply refineResponse(AgentRequest request) {
        String refined = request.requiredInputString("draft") + REFINED_MARK;
        return AgentReply.ok(fields("draft", refined, "revision", countOf(refined, REFINED_MARK)));
    }

    /**
     * response_refinement version 1's loop of one step (refine and judge in one): kept so that its executions still in
     * flight when a coordinator moves to version 2 finish; satisfied after the second refinement.
     */
    @Deprecated
    static AgentReply evaluateAndRefine(AgentRequest request) {
        String refined = request.requiredInputString("draft") + REFINED_MARK;
        int revision = countOf(refined, REFINED_MARK);
        return AgentReply.ok(fields("draft", refined, "revision", revision, "satisfied", revision >= InterviewerAgent.REVISIONS_NEEDED));
    }

    static int countOf(String text, String part) {
        int count = 0;
        for (int at = text.indexOf(part); at >= 0; at = text.indexOf(part, at + part.length())) {
            count++;
        }
        return count;
    }
}
