package dev.agentcoordinator.engine;

import dev.agentcoordinator.definition.DefinitionReader;
import dev.agentcoordinator.definition.WorkflowDefinition;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The engine's decisions without a broker or database: planner, reply outcomes, input mapping. */
class StepLogicTest {
    private static final WorkflowDefinition WORKFLOW = read("""
            id: unit
            name: unit
            trigger: UNIT
            config: { timeout_ms: 10000, max_retries: 1 }
            steps:
              - { id: a, agent: x, action: a, input_mapping: { user: { from_trigger: user.id }, missing: { from_trigger: nope } } }
              - { id: b, agent: x, action: b, depends_on: [a],
                  condition: { step: a, output_key: score, operator: gt, value: 5 },
                  input_mapping: { score: { from_step: a, output_key: score }, memo: { from_shared_memory: notes.first }, literal: { value: [1, 2] } } }
              - { id: c, agent: x, action: c, depends_on: [a, b] }
              - { id: e, agent: x, action: e, depends_on: [a] }
              - { id: d, agent: x, action: d, depends_on: [a, e], condition: { step: e, output_key: score, operator: not_exists } }
              - { id: f, agent: x, action: f, depends_on: [e] }
              - id: loop
                agent: x
                action: refine
                depends_on: [a]
                loop: { max_iterations: 3, until: { output_key: done, operator: eq, value: true }, feedback: { draft: text } }
            """);

    private static WorkflowDefinition read(String yaml) {
        try {
            return new DefinitionReader().read("unit.yaml", yaml).definition();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** Rows as load-context.sql returns them. */
    private static List<Map<String, Object>> context(String executionStatus, Object... stepStatusOutput) {
        List<Map<String, Object>> rows = new ArrayList<>();
        for (int i = 0; i < stepStatusOutput.length; i += 3) {
            Map<String, Object> row = new HashMap<>();
            row.put("execution_status", executionStatus);
            row.put("trigger_payload", "{\"user\":{\"id\":\"u-7\"}}");
            row.put("shared_memory", "{\"notes\":{\"first\":\"hello\"}}");
            row.put("row_id", "row-" + stepStatusOutput[i]);
            row.put("step_id", stepStatusOutput[i]);
            row.put("status", stepStatusOutput[i + 1]);
            row.put("output", stepStatusOutput[i + 2]);
            row.put("iteration", 0);
            rows.add(row);
        }
        return rows;
    }

    private static StepDecision decide(String stepId, List<Map<String, Object>> rows) {
        return new StepPlanner(WORKFLOW, WORKFLOW.step(stepId).orElseThrow()).decide(rows);
    }

    @Test
    void aRootStepRunsWithItsMappedInputAndUndefinedSourcesLeftOut() {
        StepDecision decision = decide("a", context("running", "a", "pending", null));
        assertThat(decision.kind()).isEqualTo(StepDecision.Kind.DISPATCH);
        assertThat(decision.inputJson()).isEqualTo("{\"user\":\"u-7\"}");
    }

    @Test
    void aStepWaitsForUnsettledDependencies() {
        assertThat(decide("c", context("running", "a", "completed", "{}", "b", "running", null, "c", "pending", null)).kind())
                .isEqualTo(StepDecision.Kind.WAIT);
    }

    @Test
    void conditionsSkipWithAReasonThatShowsTheValue() {
        StepDecision decision = decide("b", context("running", "a", "completed", "{\"score\":3}", "b", "pending", null));
        assertThat(decision.kind()).isEqualTo(StepDecision.Kind.SKIP);
        assertThat(decision.reason()).isEqualTo("condition not met: a.score gt 5 (was 3)");
        assertThat(decide("b", context("running", "a", "completed", "{\"score\":null}", "b", "pending", null)).reason())
                .isEqualTo("condition not met: a.score gt 5 (was null)");
        assertThat(decide("b", context("running", "a", "completed", "{}", "b", "pending", null)).reason())
                .isEqualTo("condition not met: a.score gt 5 (was absent)");
    }

    /**
     * As the spec's evaluateCondition: exists and not_exists ask only for the key, whatever value the condition carries
     * (the spec's type asks for one), and the reason for a skip does not show that unread value.
     */
    @Test
    void aPresenceConditionReadsTheKeyAloneAndItsSkipReasonLeavesOutTheUnreadValue() {
        WorkflowDefinition presence = read("""
                id: presence
                name: presence
                trigger: PRESENCE
                steps:
                  - { id: a, agent: x, action: a }
                  - { id: b, agent: x, action: b, depends_on: [a], condition: { step: a, output_key: n, operator: exists, value: false } }
                  - { id: c, agent: x, action: c, depends_on: [a], condition: { step: a, output_key: n, operator: not_exists, value: null } }
                """);
        List<Map<String, Object>> rows = context("running", "a", "completed", "{\"n\":7}", "b", "pending", null, "c", "pending", null);
        assertThat(new StepPlanner(presence, presence.step("b").orElseThrow()).decide(rows).kind()).isEqualTo(StepDecision.Kind.DISPATCH);
        StepDecision skip = new StepPlanner(presence, presence.step("c").orElseThrow()).decide(rows);
        assertThat(skip.kind()).isEqualTo(StepDecision.Kind.SKIP);
        assertThat(skip.reason()).isEqualTo("condition not met: a.n not_exists (was 7)");
    }

    /** As the spec's evaluateCondition: a step without output (here skipped) meets no condition, not even not_exists. */
    @Test
    void aConditionOnAStepThatDidNotCompleteIsNotMet() {
        StepDecision decision = decide("d", context("running", "a", "completed", "{}", "e", "skipped", null, "d", "pending", null));
        assertThat(decision.kind()).isEqualTo(StepDecision.Kind.SKIP);
        assertThat(decision.reason()).isEqualTo("condition not met: e did not complete (skipped), so no condition on it holds");
        assertThat(decide("d", context("running", "a", "completed", "{}", "e", "completed", "{}", "d", "pending", null)).kind())
                .as("completed without the key: not_exists holds").isEqualTo(StepDecision.Kind.DISPATCH);
    }

    @Test
    void inputsComeFromStepOutputsSharedMemoryAndLiterals() {
        StepDecision decision = decide("b", context("running", "a", "completed", "{\"score\":9}", "b", "pending", null));
        assertThat(decision.kind()).isEqualTo(StepDecision.Kind.DISPATCH);
        assertThat(decision.inputJson()).isEqualTo("{\"score\":9,\"memo\":\"hello\",\"literal\":[1,2]}");
    }

    @Test
    void aFailedDependencySkipsAndAllSkippedDependenciesMeanBranchNotTaken() {
        assertThat(decide("c", context("running", "a", "completed", "{}", "b", "failed", null, "c", "pending", null)).reason())
                .isEqualTo("dependency b failed");
        assertThat(decide("c", context("running", "a", "skipped", null, "b", "skipped", null, "c", "pending", null)).reason())
                .isEqualTo("branch not taken: every dependency was skipped (a, b; see why on them)");
        assertThat(decide("c", context("running", "a", "completed", "{}", "b", "skipped", null, "c", "pending", null)).kind())
                .isEqualTo(StepDecision.Kind.DISPATCH);
        // skipped because a step further up failed (a failed under allow_failure, e skipped for it): that failure is named
        assertThat(decide("f", context("running", "a", "failed", null, "e", "skipped", null, "f", "pending", null)).reason())
                .isEqualTo("every dependency was skipped (e) after step a failed further up");
    }

    @Test
    void nothingHappensOnceTheExecutionStoppedOrTheStepWasDecided() {
        assertThat(decide("a", context("cancelled", "a", "pending", null)).kind()).isEqualTo(StepDecision.Kind.NOTHING);
        assertThat(decide("a", context("running", "a", "running", null)).kind())
                .isEqualTo(StepDecision.Kind.RESEND_IF_STARTED_BY_THIS_MESSAGE);
    }

    @Test
    void aStepAlreadySkippedOrFailedPassesTheWalkOnToItsDependentsAndACompletedOneChecksTheEnd() {
        assertThat(decide("a", context("running", "a", "completed", "{}")).kind()).isEqualTo(StepDecision.Kind.FINISH_IF_OVER);
        assertThat(decide("a", context("running", "a", "skipped", null)).kind()).isEqualTo(StepDecision.Kind.PASS_ON);
        assertThat(decide("a", context("running", "a", "failed", null)).kind()).isEqualTo(StepDecision.Kind.PASS_ON);
        assertThat(decide("a", context("failed", "a", "failed", null)).kind())
                .as("not once the execution stopped").isEqualTo(StepDecision.Kind.NOTHING);
    }

    @Test
    void aRunningStepsRequestIsResentOnlyByTheMessageThatStartedIt() {
        org.apache.camel.Exchange exchange = new org.apache.camel.support.DefaultExchange(new org.apache.camel.impl.DefaultCamelContext());
        Map<String, Object> row = new HashMap<>(Map.of("status", "running", "dispatched_by", "ID:first"));
        exchange.getMessage().setBody(row);
        exchange.getMessage().setHeader(Headers.DECISION, StepDecision.Kind.RESEND_IF_STARTED_BY_THIS_MESSAGE.name());
        exchange.getMessage().setHeader(Headers.CAUSE_MESSAGE_ID, "ID:first");
        assertThat(AgentStepMapper.resendApplies(exchange)).as("a second delivery of the message that started the attempt").isTrue();

        exchange.getMessage().setHeader(Headers.CAUSE_MESSAGE_ID, "ID:other");
        assertThat(AgentStepMapper.resendApplies(exchange)).as("another message found the step running").isFalse();
        exchange.getMessage().setHeader(Headers.CAUSE_MESSAGE_ID, null);
        assertThat(AgentStepMapper.resendApplies(exchange)).as("a timer or HTTP call").isFalse();

        exchange.getMessage().setHeader(Headers.CAUSE_MESSAGE_ID, "ID:first");
        row.put("status", "completed");
        assertThat(AgentStepMapper.resendApplies(exchange)).as("the attempt settled meanwhile").isFalse();

        // redelivered or not (a broker restart forgets the flag), only the message that started the attempt
        exchange.getMessage().setHeader("JMSRedelivered", true);
        row.put("status", "running");
        exchange.getMessage().setHeader(Headers.CAUSE_MESSAGE_ID, "ID:other");
        assertThat(AgentStepMapper.resendApplies(exchange)).as("a redelivered message that found another's attempt").isFalse();
        exchange.getMessage().setHeader(Headers.CAUSE_MESSAGE_ID, "ID:first");
        assertThat(AgentStepMapper.resendApplies(exchange)).as("a redelivered message that started the attempt").isTrue();
    }

    @Test
    void repliesBecomeOneTransition() {
        var a = WORKFLOW.step("a").orElseThrow();
        assertThat(StepOutcome.of(a, "{\"status\":\"ok\",\"output\":{\"x\":1}}", 1, 2, 0, "{}").transition()).isEqualTo(StepOutcome.Transition.COMPLETE);
        assertThat(StepOutcome.of(a, "{\"status\":\"error\",\"error\":\"boom\"}", 1, 2, 0, "{}").transition()).isEqualTo(StepOutcome.Transition.RETRY);
        assertThat(StepOutcome.of(a, "{\"status\":\"error\",\"error\":\"boom\"}", 2, 2, 0, "{}").error()).isEqualTo("boom");
        assertThat(StepOutcome.of(a, "{\"status\":\"error\",\"error\":\"no\",\"retryable\":false}", 1, 2, 0, "{}").transition())
                .isEqualTo(StepOutcome.Transition.FAIL);
        assertThat(StepOutcome.of(a, "not json", 1, 1, 0, "{}").error()).contains("malformed JSON");
        // an output nested so deep that its outcome event, which wraps it in more, could not be read: the coordinator
        // refused its own event (dead-lettered without its id), and a chained workflow never started
        String deep = "[".repeat(950) + "]".repeat(950);
        assertThat(StepOutcome.of(a, "{\"status\":\"ok\",\"output\":{\"x\":" + deep + "}}", 1, 1, 0, "{}").error())
                .startsWith("agent reply nests deeper than 890 levels: what the coordinator stores is wrapped in more");
        // the deepest reply taken (890 levels) makes an outcome event that is taken too: its output three levels deeper
        String deepest = "[".repeat(Json.REPLY_MAX_DEPTH - 2) + "]".repeat(Json.REPLY_MAX_DEPTH - 2);
        assertThat(StepOutcome.of(a, "{\"status\":\"ok\",\"output\":{\"x\":" + deepest + "}}", 1, 1, 0, "{}").transition())
                .isEqualTo(StepOutcome.Transition.COMPLETE);
        assertThat(StepOutcome.of(a, "{\"status\":\"ok\",\"output\":{\"x\":[" + deepest + "]}}", 1, 1, 0, "{}").error())
                .startsWith("agent reply nests deeper than 890 levels");
        assertThat(EventDecoder.parse("{\"type\":\"T_COMPLETED\",\"payload\":{\"results\":{\"a\":{\"output\":{\"x\":"
                + deepest + "}}}}}").path("type").asText()).isEqualTo("T_COMPLETED");
        // a key given twice is the agent's mistake, as in an event: before, the last one won without a word
        assertThat(StepOutcome.of(a, "{\"status\":\"error\",\"error\":\"first\",\"status\":\"ok\",\"output\":{}}", 1, 2, 0, "{}").error())
                .startsWith("agent replied with malformed JSON: not valid JSON: Duplicate field 'status'");
        // and so is it when the last one says "running": judged as the reply it is, not taken as a heartbeat first
        assertThat(StepOutcome.isHeartbeat("{\"status\": \"ok\", \"output\": {}, \"status\": \"running\"}")).isFalse();
        assertThat(StepOutcome.isHeartbeat("{\"status\": \"running\"}")).isTrue();
        assertThat(StepOutcome.reportsSuccess("{\"status\": \"error\", \"error\": \"x\", \"status\": \"ok\"}")).isFalse();
        assertThat(StepOutcome.of(a, "", 1, 2, 0, "{}").error()).startsWith("agent reply is empty");
        assertThat(StepOutcome.of(a, "{\"status\":\"maybe\"}", 1, 1, 0, "{}").error()).contains("\"maybe\"");
    }

    /**
     * A reply holding U+FFFD is kept as it came (it may be meant), but a WARN line says where such a character comes from:
     * the broker's own decoding of a STOMP frame without content-length whose bytes were not UTF-8.
     */
    @Test
    void aReplyHoldingTheReplacementCharacterIsKeptAndToldOf() {
        org.apache.camel.Exchange exchange = new org.apache.camel.support.DefaultExchange(new org.apache.camel.impl.DefaultCamelContext());
        exchange.getMessage().setBody("{\"status\": \"ok\", \"output\": {\"name\": \"Ren\uFFFD\"}}");
        exchange.getMessage().setHeader("JMSCorrelationID", "row-1:1@wf/s/0");
        try (CapturedLog log = CapturedLog.of(Endpoints.PROGRESS_LOG)) {
            ReplyRoutes.keepReplyText(exchange);
            assertThat(exchange.getProperty(ReplyRoutes.REPLY_TEXT, String.class)).contains("Ren\uFFFD");
            assertThat(log.lines()).singleElement().asString().startsWith("WARN reply row-1:1@wf/s/0 holds U+FFFD");
        }
    }

    /** A correlation id whose ':' a STOMP client did not escape (the broker drops it) is told so; another is only named. */
    @Test
    void aCorrelationIdMissingItsColonIsToldWhy() {
        assertThat(ReplyRoutes.unnamedAttempt("9a945c61-f0bb1@w_raw~v1/s1/1")).isEqualTo("correlation id 9a945c61-f0bb1@w_raw~v1/s1/1"
                + " does not name a step attempt (the ':' before its attempt number is missing: a STOMP client must send ':' in a"
                + " header value as \\c, docs/agent-protocol.md)");
        assertThat(ReplyRoutes.unnamedAttempt("something-else")).isEqualTo("correlation id something-else does not name a step attempt");
    }

    /** A reply sent without a correlation id is told so, not as a correlation id "null". */
    @Test
    void aReplyWithoutACorrelationIdIsToldSo() {
        assertThat(ReplyRoutes.unnamedAttempt(null)).isEqualTo("a reply without a correlation id names no step attempt: copy the"
                + " request's correlation id into its reply");
    }

    /** retryable says false as false or "false"; anything else but true is no answer, taken as true and named in a WARN. */
    @Test
    void onlyFalseStopsTheRetriesAndAnUnreadableRetryableIsNamed() {
        var a = WORKFLOW.step("a").orElseThrow();
        for (String retryable : List.of("false", "\"false\"")) {
            StepOutcome outcome = StepOutcome.of(a, "{\"status\":\"error\",\"error\":\"x\",\"retryable\":" + retryable + "}", 1, 2, 0, "{}");
            assertThat(outcome.transition()).as(retryable).isEqualTo(StepOutcome.Transition.FAIL);
            assertThat(outcome.ignoredFields()).as(retryable).isNull();
        }
        for (String retryable : List.of("true", "\"true\"", "null")) {
            StepOutcome outcome = StepOutcome.of(a, "{\"status\":\"error\",\"error\":\"x\",\"retryable\":" + retryable + "}", 1, 2, 0, "{}");
            assertThat(outcome.transition()).as(retryable).isEqualTo(StepOutcome.Transition.RETRY);
            assertThat(outcome.ignoredFields()).as(retryable).isNull();
        }
        for (String retryable : List.of("0", "\"no\"", "{}")) {
            StepOutcome outcome = StepOutcome.of(a, "{\"status\":\"error\",\"error\":\"x\",\"retryable\":" + retryable + "}", 1, 2, 0, "{}");
            assertThat(outcome.transition()).as(retryable).isEqualTo(StepOutcome.Transition.RETRY);
            assertThat(outcome.ignoredFields().misspelt()).as("a WARN line").isTrue();
            assertThat(outcome.ignoredFields().text()).isEqualTo("\"retryable\": " + retryable + " is neither true nor false, and is"
                    + " taken as true (the attempt is retried while attempts are left)");
        }
    }

    /** A signal or shared memory of the wrong shape was dropped without a word: now a WARN line names it. */
    @Test
    void signalsAndSharedMemoryOfTheWrongShapeAreNamedAsDropped() {
        var a = WORKFLOW.step("a").orElseThrow();
        StepOutcome wrongTypes = StepOutcome.of(a, "{\"status\":\"ok\",\"output\":{},\"signals\":{\"signal_type\":\"S\"},"
                + "\"shared_memory\":\"k\"}", 1, 1, 0, "{}");
        assertThat(wrongTypes.transition()).isEqualTo(StepOutcome.Transition.COMPLETE);
        assertThat(wrongTypes.signalsJson()).isEqualTo("[]");
        assertThat(wrongTypes.ignoredFields().misspelt()).as("a WARN line").isTrue();
        assertThat(wrongTypes.ignoredFields().text()).isEqualTo("\"shared_memory\" is a string, not an object: dropped;"
                + " \"signals\" is an object, not a list: dropped");

        StepOutcome misnamed = StepOutcome.of(a, "{\"status\":\"error\",\"error\":\"x\",\"signals\":[{\"signal_type\":\"KEPT\"},"
                + "{\"type\":\"S\"},7],\"shared_memory\":[1]}", 1, 1, 0, "{}");
        assertThat(misnamed.signalsJson()).isEqualTo("[{\"signal_type\":\"KEPT\"}]");
        assertThat(misnamed.ignoredFields().text()).isEqualTo("\"shared_memory\" is an array, not an object: dropped;"
                + " signals[1] has no \"signal_type\" string (it has \"type\"): dropped; signals[2] has no \"signal_type\" string: dropped");

        assertThat(StepOutcome.of(a, "{\"status\":\"ok\",\"signals\":null,\"shared_memory\":null}", 1, 1, 0, "{}").ignoredFields())
                .as("null is left out").isNull();
    }

    @Test
    void aReplysFieldsThatAreNotReadAreNamed() {
        var a = WORKFLOW.step("a").orElseThrow();
        assertThat(StepOutcome.of(a, "{\"status\":\"ok\",\"output\":{}}", 1, 1, 0, "{}").ignoredFields()).isNull();
        StepOutcome misspelt = StepOutcome.of(a, "{\"status\":\"ok\",\"outputs\":{\"x\":1}}", 1, 1, 0, "{}");
        assertThat(misspelt.transition()).isEqualTo(StepOutcome.Transition.COMPLETE);
        assertThat(misspelt.ignoredFields().misspelt()).isTrue();
        assertThat(misspelt.ignoredFields().text()).isEqualTo("reply field \"outputs\" is ignored (a reply has \"status\", \"output\", \"error\","
                + " \"retryable\", \"signals\", \"shared_memory\" and \"progress\"): did you mean \"output\" for \"outputs\"?");
        assertThat(StepOutcome.of(a, "{\"status\":\"error\",\"eror\":\"x\",\"retryable\":false}", 1, 1, 0, "{}").ignoredFields().text())
                .endsWith("did you mean \"error\" for \"eror\"?");
        // an ok reply's "errors" is the agent's own, not a misspelt "error" (which an ok reply does not read)
        IgnoredFields.Ignored own = StepOutcome.of(a, "{\"status\":\"ok\",\"output\":{},\"errors\":[]}", 1, 1, 0, "{}").ignoredFields();
        assertThat(own.misspelt()).isFalse();
        assertThat(own.text()).doesNotContain("did you mean");
        assertThat(StepOutcome.of(a, "{\"stauts\":\"ok\"}", 1, 1, 0, "{}").error())
                .isEqualTo("agent reply has status (missing), expected \"ok\" or \"error\" (or \"running\" for a heartbeat)"
                        + " (it has \"stauts\": did you mean \"status\"?)");
    }

    /** An error the agent wrote as an object or a number is kept as it wrote it (it was stored as an empty message). */
    @Test
    void anErrorThatIsNotTextIsKeptAsJsonAndAReplyThatIsNotAnObjectIsNamed() {
        var a = WORKFLOW.step("a").orElseThrow();
        assertThat(StepOutcome.of(a, "{\"status\":\"error\",\"error\":{\"code\":5,\"msg\":\"disk full\"}}", 1, 1, 0, "{}").error())
                .isEqualTo("{\"code\":5,\"msg\":\"disk full\"}");
        assertThat(StepOutcome.of(a, "{\"status\":\"error\",\"error\":[\"a\",\"b\"]}", 1, 1, 0, "{}").error()).isEqualTo("[\"a\",\"b\"]");
        assertThat(StepOutcome.of(a, "{\"status\":\"error\",\"error\":42}", 1, 1, 0, "{}").error()).isEqualTo("42");
        assertThat(StepOutcome.of(a, "{\"status\":\"error\",\"error\":\"\"}", 1, 1, 0, "{}").error())
                .isEqualTo("agent reported an error without a message");
        assertThat(StepOutcome.of(a, "{\"status\":\"error\"}", 1, 1, 0, "{}").error()).isEqualTo("agent reported an error without a message");
        assertThat(StepOutcome.of(a, "[{\"status\":\"ok\"}]", 1, 1, 0, "{}").error()).isEqualTo("agent reply must be a JSON object, got array");
    }

    @Test
    void aLoopIteratesWithFeedbackUntilSatisfiedOrBounded() {
        var loop = WORKFLOW.step("loop").orElseThrow();
        StepOutcome again = StepOutcome.of(loop, "{\"status\":\"ok\",\"output\":{\"text\":\"v2\",\"done\":false}}", 1, 2, 0, "{\"draft\":\"v1\"}");
        assertThat(again.transition()).isEqualTo(StepOutcome.Transition.ITERATE);
        assertThat(Json.parse(again.nextInputJson()).path("draft").asText()).isEqualTo("v2");
        assertThat(StepOutcome.of(loop, "{\"status\":\"ok\",\"output\":{\"done\":true}}", 1, 2, 0, "{}").transition())
                .isEqualTo(StepOutcome.Transition.COMPLETE);
        assertThat(StepOutcome.of(loop, "{\"status\":\"ok\",\"output\":{\"done\":false}}", 1, 2, 2, "{}").transition())
                .isEqualTo(StepOutcome.Transition.COMPLETE);
    }

    @Test
    void repliesCarrySharedMemoryAndWellFormedSignalsOnly() {
        StepOutcome outcome = StepOutcome.of(WORKFLOW.step("a").orElseThrow(),
                "{\"status\":\"ok\",\"output\":{},\"shared_memory\":{\"k\":1},\"signals\":[{\"signal_type\":\"S\",\"data\":{}},{\"bad\":true}]}", 1, 1, 0, "{}");
        assertThat(outcome.sharedMemoryJson()).isEqualTo("{\"k\":1}");
        assertThat(Json.parse(outcome.signalsJson()).size()).isEqualTo(1);
    }

    @Test
    void correlationIdsRoundTrip() {
        assertThat(StepRequests.parseCorrelation(StepRequests.correlationId("row-1", 3)))
                .isEqualTo(new StepRequests.Correlation("row-1", 3, null, null, null, 0));
        String named = StepRequests.correlationId("3f2a-row", 2, "interview_completed", 3, "analyze-interview", 4);
        assertThat(named).isEqualTo("3f2a-row:2@interview_completed~v3/analyze-interview/4");
        assertThat(StepRequests.parseCorrelation(named))
                .isEqualTo(new StepRequests.Correlation("3f2a-row", 2, "interview_completed", 3, "analyze-interview", 4));
        assertThat(StepRequests.parseCorrelation(named).namesStep()).isTrue();
        // a request sent before coordinators kept workflow versions
        assertThat(StepRequests.parseCorrelation("3f2a-row:2@interview_completed/analyze-interview/4"))
                .isEqualTo(new StepRequests.Correlation("3f2a-row", 2, "interview_completed", null, "analyze-interview", 4));
        // what an agent might send back instead
        assertThat(StepRequests.parseCorrelation("garbage")).isNull();
        assertThat(StepRequests.parseCorrelation(null)).isNull();
        assertThat(StepRequests.parseCorrelation("row:x")).isNull();
        assertThat(StepRequests.parseCorrelation("row:1@wf/step")).isNull();
        assertThat(StepRequests.parseCorrelation("row:1@wf/step/many")).isNull();
        assertThat(StepRequests.parseCorrelation("row:1@/step/2")).isNull();
        assertThat(StepRequests.parseCorrelation("row:1@wf~vx/step/2")).isNull();
        assertThat(StepRequests.parseCorrelation("row:1@~v2/step/2")).isNull();
    }

    @Test
    void aJoinRunsOnTheCarriedContextOnlyWhenItShowsEveryDependencySettled() {
        DependencyGate gate = new DependencyGate(null, new dev.agentcoordinator.definition.WorkflowCatalog(List.of(WORKFLOW)));
        org.apache.camel.Exchange arrival = new org.apache.camel.support.DefaultExchange(new org.apache.camel.impl.DefaultCamelContext());
        arrival.getMessage().setHeader(Headers.ROUTE_KEY, "unit");
        arrival.getMessage().setHeader(FanInRoutes.JOIN_STEP, "c");
        assertThat(DependencyGate.carriesContext(arrival)).isFalse();
        assertThat(gate.settledInCarriedContext(arrival)).isFalse();

        arrival.setProperty(Headers.CONTEXT_ROWS, context("running", "a", "completed", "{}", "b", "running", null));
        assertThat(DependencyGate.carriesContext(arrival)).isTrue();
        assertThat(gate.settledInCarriedContext(arrival)).as("b has not settled in this context").isFalse();

        arrival.setProperty(Headers.CONTEXT_ROWS, context("running", "a", "completed", "{}", "b", "skipped", null));
        assertThat(gate.settledInCarriedContext(arrival)).isTrue();
    }

    @Test
    void aHeartbeatsProgressIsKeptAsSentUnlessPostgreSqlCannotStoreIt() {
        assertThat(StepOutcome.heartbeatProgress("{\"status\":\"running\",\"progress\":{\"done\":3}}")).isEqualTo("{\"done\":3}");
        assertThat(StepOutcome.heartbeatProgress("{\"status\":\"running\"}")).isNull();
        // jsonb refuses U+0000: not kept (a WARN line says so), so the progress reported before stays for a retry;
        // before, a note took its place, and the retry was sent the note instead of the agent's last good progress
        assertThat(StepOutcome.heartbeatProgress("{\"status\":\"running\",\"progress\":{\"cursor\":\"a\\u0000b\"}}")).isNull();
    }

    /** The WARN naming where the unstorable character is stays one line: the key is the agent's to write, line breaks too. */
    @Test
    void anUnstorableProgressIsToldOnOneLineWhateverItsKeys() {
        try (CapturedLog log = CapturedLog.of(StepOutcome.class.getName())) {
            assertThat(StepOutcome.heartbeatProgress("{\"status\":\"running\",\"progress\":"
                    + "{\"k\\n12:00:00.000 ERROR [main] d.a.Forged - by an agent\":\"\\u0000\"}}")).isNull();
            assertThat(log.lines()).hasSize(1);
            assertThat(log.lines().get(0)).doesNotContain("\n").contains("k\\n12:00:00.000 ERROR");
        }
    }

    /** Why a loop goes on, as its progress line and an exhausted loop's error say it: a long value is cut, with its length. */
    @Test
    void aLoopsVerdictNamesItsConditionAndAtMostTwoHundredCharactersOfTheValue() {
        dev.agentcoordinator.definition.LoopSpec loop = new dev.agentcoordinator.definition.LoopSpec(2,
                new dev.agentcoordinator.definition.LoopSpec.LoopCondition("score", "gte", Json.parse("0.85")), null, true, null);
        assertThat(StepOutcome.untilAsItWas(loop, "{\"score\": 0.5}")).isEqualTo("score gte 0.85, was 0.5");
        assertThat(StepOutcome.untilAsItWas(loop, "{}")).isEqualTo("score gte 0.85, was absent");
        String verdict = StepOutcome.untilAsItWas(loop, "{\"score\": \"" + "x".repeat(1_000_000) + "\"}");
        assertThat(verdict).hasSizeLessThan(260).endsWith("… (1,000,002 characters)");
    }
}
