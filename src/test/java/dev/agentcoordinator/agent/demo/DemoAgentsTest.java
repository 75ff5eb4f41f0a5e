package dev.agentcoordinator.agent.demo;

import com.fasterxml.jackson.databind.JsonNode;
import dev.agentcoordinator.agent.AgentReply;
import dev.agentcoordinator.agent.AgentRequest;
import dev.agentcoordinator.agent.AgentService;
import dev.agentcoordinator.agent.StepRequestClient;
import org.apache.activemq.artemis.junit.EmbeddedActiveMQExtension;
import org.junit.jupiter.api.Test;
import org.messaginghub.pooled.jms.JmsPoolConnectionFactory;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.params.provider.Arguments.arguments;

/** Every demo action answers the output keys the example workflows read. */
class DemoAgentsTest {

    @RegisterExtension
    static final EmbeddedActiveMQExtension BROKER = new EmbeddedActiveMQExtension(42);

    private static final Map<String, Object> DATA = output("strategist", "fetch_market_data", Map.of("region", "eu"));
    private static final List<Object> SKILLS = List.of(Map.of("name", "java", "level", 4), Map.of("name", "sql", "level", 1));

    static Stream<Arguments> actions() {
        return Stream.of(
                arguments("interviewer", "analyze_transcript", Map.of("interview_id", "i-1", "user_id", "u-1"), List.of("analysis", "feedback")),
                arguments("sentinel", "extract_skills_from_interview",
                        Map.of("analysis", Map.of("score", 50, "strengths", List.of("java"), "weaknesses", List.of("sql"))), List.of("skills")),
                arguments("sentinel", "update_user_skills", Map.of("skill_signals", SKILLS, "user_id", "u-1"), List.of("skills", "updated_count")),
                arguments("architect", "evaluate_roadmap_relevance", Map.of("updated_skills", SKILLS, "interview_feedback", "ok", "user_id", "u-1"),
                        List.of("needs_adjustment", "analysis")),
                arguments("architect", "adjust_roadmap", Map.of("impact_analysis", Map.of("skills_below_target", List.of("sql")), "user_id", "u-1"),
                        List.of("changes", "adjustment_id")),
                arguments("architect", "revert_roadmap", Map.of("adjustment_id", "adj-u-1", "user_id", "u-1"), List.of("reverted")),
                arguments("action", "send_interview_summary", Map.of("analysis", Map.of("score", 50), "user_id", "u-1"), List.of("notified", "channel")),
                arguments("sentinel", "parse_resume", Map.of("resume_id", "r-1", "user_id", "u-1"), List.of("parsed")),
                arguments("sentinel", "extract_skills", Map.of("parsed", Map.of("resume_id", "r-1", "raw_skills", List.of("java"))), List.of("skills")),
                arguments("strategist", "match_jobs", Map.of("skills", SKILLS), List.of("matches")),
                arguments("architect", "generate_roadmap", Map.of("skills", SKILLS, "matches", List.of(Map.of("job_id", "job-java"))), List.of("roadmap")),
                arguments("strategist", "fetch_market_data", Map.of("region", "eu"), List.of("data")),
                arguments("strategist", "analyze_trends", Map.of("data", DATA.get("data")), List.of("trends")),
                arguments("sentinel", "analyze_salaries", Map.of("data", DATA.get("data")), List.of("salaries")),
                arguments("architect", "analyze_skill_demand", Map.of("data", DATA.get("data")), List.of("skills")),
                arguments("action", "compile_report", Map.of("trends", List.of(Map.of("skill", "java")), "salaries", Map.of("median", 70000),
                        "skills", SKILLS), List.of("report")),
                arguments("strategist", "evaluate_match", Map.of("job_id", "j-1", "user_id", "u-1"), List.of("score")),
                arguments("action", "notify_strong_match", Map.of("job_id", "j-1", "user_id", "u-1"), List.of("notified")),
                arguments("architect", "analyze_skill_gaps", Map.of("job_id", "j-1", "user_id", "u-1"), List.of("gaps")),
                arguments("architect", "plan_upskilling", Map.of("gaps", List.of(Map.of("skill", "sql", "missing_levels", 2))), List.of("plan")),
                arguments("action", "prepare_application", Map.of("job_id", "j-1", "user_id", "u-1"), List.of("application_id")),
                arguments("strategist", "draft_response", Map.of("question", "Why Java?"), List.of("draft", "revision")),
                arguments("strategist", "refine_response", Map.of("draft", "Draft: Why Java?"), List.of("draft", "revision")),
                arguments("strategist", "evaluate_and_refine", Map.of("draft", "Draft: Why Java?"), List.of("draft", "revision", "satisfied")),
                arguments("interviewer", "evaluate_response", Map.of("draft", "Draft: Why Java? (refined)"),
                        List.of("satisfied", "score", "draft", "critique")),
                arguments("action", "deliver_response", Map.of("answer", "Because."), List.of("delivered")),
                arguments("action", "send_roadmap_update", Map.of("user_id", "u-1", "changes", List.of(Map.of("skill", "sql"))),
                        List.of("notified", "changes_count")));
    }

    @ParameterizedTest(name = "{0}.{1}")
    @MethodSource("actions")
    void actionAnswersTheDocumentedKeys(String agent, String action, Map<String, Object> input, List<String> keys) {
        Map<String, Object> output = output(agent, action, input);

        assertThat(output).containsKeys(keys.toArray(String[]::new));
        assertThat(output(agent, action, input)).as("deterministic").isEqualTo(output);
    }

    @Test
    void everyDemoActionIsCoveredByTheTable() {
        Map<String, Object> covered = actions().collect(Collectors.toMap(
                args -> args.get()[0] + "." + args.get()[1], args -> true));
        DemoAgents.handlers().forEach((agent, actions) ->
                assertThat(covered.keySet()).containsAll(actions.keySet().stream().map(a -> agent + "." + a).toList()));
    }

    @Test
    void aWeakInterviewNeedsARoadmapAdjustmentAndSignalsACriticalGap() throws Exception {
        Map<String, Object> analyzed = output("interviewer", "analyze_transcript",
                Map.of("interview_id", "i-7", "user_id", "u-7", "score", 30));
        AgentReply updated = reply("sentinel", "update_user_skills", Map.of(
                "skill_signals", output("sentinel", "extract_skills_from_interview",
                        Map.of("analysis", analyzed.get("analysis"))).get("skills"),
                "user_id", "u-7"));
        Map<String, Object> impact = output("architect", "evaluate_roadmap_relevance", Map.of(
                "updated_skills", updated.output().get("skills"), "interview_feedback", analyzed.get("feedback"), "user_id", "u-7"));
        Map<String, Object> adjusted = output("architect", "adjust_roadmap",
                Map.of("impact_analysis", impact.get("analysis"), "user_id", "u-7"));

        assertThat(updated.signals()).extracting(AgentReply.Signal::signalType).containsExactly("SKILL_GAP_CRITICAL");
        assertThat(updated.sharedMemory()).containsEntry("last_skill_update", "u-7");
        assertThat(impact).containsEntry("needs_adjustment", true);
        assertThat((List<?>) adjusted.get("changes")).hasSize(2);
        assertThat(adjusted).containsEntry("adjustment_id", "adj-u-7");
    }

    @Test
    void aStrongInterviewNeedsNoAdjustment() {
        Map<String, Object> analyzed = output("interviewer", "analyze_transcript",
                Map.of("interview_id", "i-8", "user_id", "u-8", "score", 90));
        Object skills = output("sentinel", "extract_skills_from_interview", Map.of("analysis", analyzed.get("analysis"))).get("skills");
        AgentReply updated = reply("sentinel", "update_user_skills", Map.of("skill_signals", skills, "user_id", "u-8"));
        Map<String, Object> impact = output("architect", "evaluate_roadmap_relevance",
                Map.of("updated_skills", updated.output().get("skills"), "user_id", "u-8"));

        assertThat(updated.signals()).isEmpty();
        assertThat(impact).containsEntry("needs_adjustment", false);
    }

    @Test
    void theEvaluatorIsSatisfiedAtTheSecondRefinement() {
        Map<String, Object> draft = output("strategist", "draft_response", Map.of("question", "Why?"));
        Map<String, Object> first = output("strategist", "refine_response", Map.of("draft", draft.get("draft")));
        Map<String, Object> firstVerdict = output("interviewer", "evaluate_response", Map.of("draft", first.get("draft")));
        Map<String, Object> second = output("strategist", "refine_response",
                Map.of("draft", firstVerdict.get("draft"), "critique", firstVerdict.get("critique")));
        Map<String, Object> secondVerdict = output("interviewer", "evaluate_response", Map.of("draft", second.get("draft")));

        assertThat(draft).containsEntry("draft", "Draft: Why?").containsEntry("revision", 0);
        assertThat(first).containsEntry("revision", 1);
        assertThat(firstVerdict).containsEntry("satisfied", false).containsEntry("draft", "Draft: Why? (refined)");
        assertThat(second).containsEntry("draft", "Draft: Why? (refined) (refined)").containsEntry("revision", 2);
        assertThat(secondVerdict).containsEntry("satisfied", true).containsEntry("critique", "good enough");
    }

    @Test
    void demoKnobsSimulateTransientAndFinalFailures() {
        Map<String, Object> flaky = Map.of("region", "eu", "fail_until_attempt", 2);
        assertThat(reply("strategist", "fetch_market_data", flaky, 1).retryable()).isTrue();
        assertThat(reply("strategist", "fetch_market_data", flaky, 2).isOk()).isTrue();

        AgentReply failed = reply("strategist", "fetch_market_data", Map.of("simulate_error", "market closed"), 1);
        assertThat(failed.isOk()).isFalse();
        assertThat(failed.error()).isEqualTo("market closed");
        // a flag mapped from the trigger as it is switches it off when false (it failed the step with the message "false")
        assertThat(reply("strategist", "fetch_market_data", Map.of("simulate_error", false), 1).isOk()).isTrue();
        assertThat(reply("strategist", "fetch_market_data", Map.of("simulate_error", ""), 1).isOk()).isTrue();
    }

    @Test
    void runsAsAgentsOnTheBroker() throws Exception {
        var connectionFactory = AgentService.artemisConnectionFactory(BROKER.getVmURL());
        try (DemoAgents.Running agents = DemoAgents.start(connectionFactory, 1);
             StepRequestClient coordinator = new StepRequestClient(connectionFactory)) {
            assertThat(agents.services()).extracting(AgentService::agentName)
                    .containsExactly("interviewer", "sentinel", "architect", "action", "strategist");

            JsonNode analyzed = coordinator.awaitReply(coordinator.send("interviewer", "analyze_transcript",
                    Map.of("interview_id", "i-1", "user_id", "u-1", "score", 30)));
            JsonNode updated = coordinator.awaitReply(coordinator.send("sentinel", "update_user_skills",
                    Map.of("skill_signals", List.of(Map.of("name", "sql", "level", 1)), "user_id", "u-1")));

            assertThat(analyzed.at("/output/analysis/score").asInt()).isEqualTo(30);
            assertThat(analyzed.at("/output/feedback").asText()).contains("30/100");
            assertThat(updated.at("/signals/0/signal_type").asText()).isEqualTo("SKILL_GAP_CRITICAL");
            assertThat(updated.at("/shared_memory/last_skill_update").asText()).isEqualTo("u-1");
        }
    }

    @Test
    void runsOnThePooledConnectionFactoryTheCoordinatorShares() throws Exception {
        JmsPoolConnectionFactory pool = new JmsPoolConnectionFactory();
        pool.setConnectionFactory(AgentService.artemisConnectionFactory(BROKER.getVmURL()));
        pool.setMaxConnections(1);
        try (DemoAgents.Running agents = DemoAgents.start(pool);
             StepRequestClient coordinator = new StepRequestClient(pool)) {
            List<String> ids = List.of(
                    coordinator.send("strategist", "draft_response", Map.of("question", "Why?")),
                    coordinator.send("strategist", "draft_response", Map.of("question", "How?")),
                    coordinator.send("action", "deliver_response", Map.of("answer", "Because.")));

            assertThat(coordinator.awaitReply(ids.get(0)).at("/output/draft").asText()).isEqualTo("Draft: Why?");
            assertThat(coordinator.awaitReply(ids.get(1)).at("/output/draft").asText()).isEqualTo("Draft: How?");
            assertThat(coordinator.awaitReply(ids.get(2)).at("/output/delivered").asBoolean()).isTrue();
        } finally {
            pool.stop();
        }
    }

    private static Map<String, Object> output(String agent, String action, Map<String, Object> input) {
        AgentReply reply = reply(agent, action, input);
        assertThat(reply.isOk()).as("%s.%s: %s", agent, action, reply).isTrue();
        return reply.output();
    }

    private static AgentReply reply(String agent, String action, Map<String, Object> input) {
        return reply(agent, action, input, 1);
    }

    private static AgentReply reply(String agent, String action, Map<String, Object> input, int attempt) {
        AgentRequest request = new AgentRequest("exec-1", "wf", "step", agent, action, attempt, 0, null, input, Map.of());
        try {
            return DemoAgents.handlers().get(agent).get(action).handle(request);
        } catch (Exception e) {
            return AgentReply.error(e.getMessage(), !(e instanceof dev.agentcoordinator.agent.NonRetryableAgentException));
        }
    }
}
