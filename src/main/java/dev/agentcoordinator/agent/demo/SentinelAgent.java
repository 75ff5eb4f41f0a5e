package dev.agentcoordinator.agent.demo;

import dev.agentcoordinator.agent.ActionHandler;
import dev.agentcoordinator.agent.AgentReply;
import dev.agentcoordinator.agent.AgentRequest;

import java.util.ArrayList;
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

/** Demo "sentinel": keeps track of a user's skills; parses resumes; reads salary data. */
final class SentinelAgent {

    /** Levels below this are a critical gap (signal SKILL_GAP_CRITICAL). */
    static final int CRITICAL_LEVEL = 2;

    private SentinelAgent() {
    }

    static Map<String, ActionHandler> handlers() {
        return Map.of(
                "extract_skills_from_interview", SentinelAgent::extractSkillsFromInterview,
                "update_user_skills", SentinelAgent::updateUserSkills,
                "parse_resume", SentinelAgent::parseResume,
                "extract_skills", SentinelAgent::extractSkills,
                "analyze_salaries", SentinelAgent::analyzeSalaries);
    }

    /** Strengths become levels 4-5; weaknesses 3 (score >= 70), 2 (>= 40) or 1. */
    static AgentReply extractSkillsFromInterview(AgentRequest request) {
        Map<String, Object> analysis = requiredObject(request, "analysis");
        int score = intOf(analysis.get("score"), 50);
        int strengthLevel = score >= 70 ? 5 : 4;
        int weaknessLevel = score >= 70 ? 3 : score >= 40 ? 2 : 1;
        List<Map<String, Object>> skills = new ArrayList<>();
        texts(analysis.get("strengths")).forEach(name -> skills.add(fields("name", name, "level", strengthLevel)));
        texts(analysis.get("weaknesses")).forEach(name -> skills.add(fields("name", name, "level", weaknessLevel)));
        return AgentReply.ok(fields("skills", skills));
    }

    static AgentReply updateUserSkills(AgentRequest request) {
        String userId = request.inputString("user_id");
        List<Map<String, Object>> updated = new ArrayList<>();
        List<String> critical = new ArrayList<>();
        for (Map<String, Object> signal : objects(request.input("skill_signals"))) {
            int level = intOf(signal.get("level"), 0);
            updated.add(fields("name", signal.get("name"), "level", level, "source", "interview"));
            if (level < CRITICAL_LEVEL) {
                critical.add(String.valueOf(signal.get("name")));
            }
        }
        AgentReply reply = AgentReply.ok(fields("skills", updated, "updated_count", updated.size()))
                .withSharedMemory("last_skill_update", userId);
        return critical.isEmpty() ? reply
                : reply.withSignal("SKILL_GAP_CRITICAL", fields("user_id", userId, "skills", critical));
    }

    static AgentReply parseResume(AgentRequest request) {
        String resumeId = request.requiredInputString("resume_id");
        return AgentReply.ok(fields("parsed", fields(
                "resume_id", resumeId,
                "user_id", request.inputString("user_id"),
                "years_experience", stableHash("years:" + resumeId) % 15,
                "sections", List.of("experience", "education", "skills"),
                "raw_skills", pickSkills(resumeId, 4))));
    }

    static AgentReply extractSkills(AgentRequest request) {
        Map<String, Object> parsed = requiredObject(request, "parsed");
        String resumeId = String.valueOf(parsed.get("resume_id"));
        List<Map<String, Object>> skills = texts(parsed.get("raw_skills")).stream()
                .map(name -> fields("name", name, "level", 1 + stableHash(resumeId + "/" + name) % 5))
                .toList();
        return AgentReply.ok(fields("skills", skills));
    }

    static AgentReply analyzeSalaries(AgentRequest request) {
        Map<String, Object> salaries = object(requiredObject(request, "data").get("salaries"));
        List<Integer> amounts = salaries.values().stream().map(amount -> intOf(amount, 0)).sorted().toList();
        int median = amounts.isEmpty() ? 0 : amounts.get(amounts.size() / 2);
        return AgentReply.ok(fields("salaries", fields(
                "median", median,
                "min", amounts.isEmpty() ? 0 : amounts.get(0),
                "max", amounts.isEmpty() ? 0 : amounts.get(amounts.size() - 1),
                "by_role", salaries)));
    }
}
