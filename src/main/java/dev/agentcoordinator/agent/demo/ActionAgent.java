package dev.agentcoordinator.agent.demo;

import dev.agentcoordinator.agent.ActionHandler;
import dev.agentcoordinator.agent.AgentReply;
import dev.agentcoordinator.agent.AgentRequest;

import java.util.List;
import java.util.Map;

import static dev.agentcoordinator.agent.demo.DemoSupport.fields;
import static dev.agentcoordinator.agent.demo.DemoSupport.intOf;
import static dev.agentcoordinator.agent.demo.DemoSupport.object;
import static dev.agentcoordinator.agent.demo.DemoSupport.objects;

/** Demo "action": the agent that reaches the user (notifications, reports, applications). Sends nothing real. */
final class ActionAgent {

    private ActionAgent() {
    }

    static Map<String, ActionHandler> handlers() {
        return Map.of(
                "send_interview_summary", ActionAgent::sendInterviewSummary,
                "compile_report", ActionAgent::compileReport,
                "notify_strong_match", ActionAgent::notifyStrongMatch,
                "prepare_application", ActionAgent::prepareApplication,
                "deliver_response", ActionAgent::deliverResponse,
                "send_roadmap_update", ActionAgent::sendRoadmapUpdate);
    }

    static AgentReply sendRoadmapUpdate(AgentRequest request) {
        return AgentReply.ok(fields(
                "notified", true,
                "channel", "email",
                "user_id", request.inputString("user_id"),
                "changes_count", request.inputList("changes").size()));
    }

    /** roadmap_changes may be absent: the adjustment step is skipped when the interview went well. */
    static AgentReply sendInterviewSummary(AgentRequest request) {
        return AgentReply.ok(fields(
                "notified", true,
                "channel", "email",
                "user_id", request.inputString("user_id"),
                "score", object(request.input("analysis")).get("score"),
                "changes_count", request.inputList("roadmap_changes").size()));
    }

    static AgentReply compileReport(AgentRequest request) {
        List<Map<String, Object>> trends = objects(request.input("trends"));
        Map<String, Object> salaries = request.inputMap("salaries");
        List<Object> topSkills = objects(request.input("skills")).stream().map(skill -> skill.get("name")).toList();
        return AgentReply.ok(fields("report", fields(
                "top_trend", trends.isEmpty() ? null : trends.get(0).get("skill"),
                "median_salary", intOf(salaries.get("median"), 0),
                "top_skills", topSkills,
                "sections", List.of("trends", "salaries", "skills"))));
    }

    static AgentReply notifyStrongMatch(AgentRequest request) {
        return AgentReply.ok(fields("notified", true, "channel", "email", "job_id", request.inputString("job_id")));
    }

    static AgentReply prepareApplication(AgentRequest request) {
        return AgentReply.ok(fields("application_id",
                "app-" + request.inputString("job_id", "job") + "-" + request.inputString("user_id", "user")));
    }

    static AgentReply deliverResponse(AgentRequest request) {
        String answer = request.inputString("answer", "");
        return AgentReply.ok(fields("delivered", true, "length", answer.length()));
    }
}
