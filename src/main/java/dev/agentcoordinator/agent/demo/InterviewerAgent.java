package dev.agentcoordinator.agent.demo;

import dev.agentcoordinator.agent.ActionHandler;
import dev.agentcoordinator.agent.AgentReply;
import dev.agentcoordinator.agent.AgentRequest;

import java.util.List;
import java.util.Map;

import static dev.agentcoordinator.agent.demo.DemoSupport.fields;
import static dev.agentcoordinator.agent.demo.DemoSupport.pickSkills;
import static dev.agentcoordinator.agent.demo.DemoSupport.stableHash;

/** Demo "interviewer": scores an interview; judges a drafted answer. */
final class InterviewerAgent {

    private InterviewerAgent() {
    }

    static Map<String, ActionHandler> handlers() {
        return Map.of("analyze_transcript", InterviewerAgent::analyzeTranscript,
                "evaluate_response", InterviewerAgent::evaluateResponse);
    }

    /** The refinement loop's answer is good enough after this many refinements. */
    static final int REVISIONS_NEEDED = 2;

    /**
     * Judges a draft by its refinements: satisfied after {@link #REVISIONS_NEEDED}, else a critique for the next
     * refinement. The draft comes back with the verdict, so the loop can feed it to the next refinement.
     */
    static AgentReply evaluateResponse(AgentRequest request) {
        String draft = request.requiredInputString("draft");
        int revisions = StrategistAgent.countOf(draft, StrategistAgent.REFINED_MARK);
        boolean satisfied = revisions >= REVISIONS_NEEDED;
        return AgentReply.ok(fields("satisfied", satisfied, "score", Math.min(100, 40 + 30 * revisions), "draft", draft,
                "critique", satisfied ? "good enough" : "too vague: give a concrete example"));
    }

    /**
     * Input interview_id, user_id, optional score (0-100; else derived from interview_id).
     * The score decides the demo's branch: below 70 the roadmap needs adjustment, below 40 a gap is critical.
     */
    static AgentReply analyzeTranscript(AgentRequest request) {
        String interviewId = request.requiredInputString("interview_id");
        int score = request.input("score") != null
                ? (int) Math.max(0, Math.min(100, request.inputLong("score", 0)))
                : stableHash(interviewId) % 101;
        List<String> skills = pickSkills(interviewId, 4);
        List<String> strengths = skills.subList(0, 2);
        List<String> weaknesses = skills.subList(2, 4);
        return AgentReply.ok(fields(
                "analysis", fields(
                        "interview_id", interviewId,
                        "user_id", request.inputString("user_id"),
                        "score", score,
                        "strengths", strengths,
                        "weaknesses", weaknesses),
                "feedback", "Interview " + interviewId + " scored " + score + "/100: strong in "
                        + String.join(" and ", strengths) + "; work on " + String.join(" and ", weaknesses) + "."));
    }
}
