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
        }).agent("loop-retry-agent", r -> {
            String text = r.input().path("draft").asText() + "+";
            if (r.action().equals("refine") && r.request().path("iteration").asInt() == 1
                    && failedOnce.add(r.request().path("execution_id").asText())) {
                return List.of(ScriptedAgents.Reply.error("the editor is away", false));
            }
            return List.of(ScriptedAgents.Reply.ok(switch (r.action()) {
                case "draft" -> Map.of("text", "draft of " + r.input().path("topic").asText());
                case "refine" -> Map.of("text", text, "satisfied", text.chars().filter(c -> c == '+').count() >= 3);
                default -> Map.of("delivered", r.input().path("text").asText());
            }));
        }).agent("loop-context-agent", r -> {
            // each iteration leaves how many it has seen in shared memory
            String text = r.input().path("draft").asText() + "+";
            return List.of(new ScriptedAgents.Reply(0, Json.write(Map.of("status", "ok", "output", Map.of("text", text, "satisfied", text.length() >= 4),
                    "shared_memory", Map.of("revisions", text.length() - 1))), null));
        }).agent("loop-resend-agent", r -> r.request().path("iteration").asInt() == 0
                ? List.of(ScriptedAgents.Reply.ok(Map.of("text", r.input().path("draft").asText() + "+", "satisfied", false)))
                : List.of());   // the second iteration's requests get no reply: it stays running
    }

    private static final java.util.Set<String> failedOnce = java.util.concurrent.ConcurrentHashMap.newKeySet();

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
        String executionId;
        try (CapturedLog progress = CapturedLog.of(Endpoints.PROGRESS_LOG)) {
            executionId = run(3);
            String id = executionId;
            assertThat(progress.lines()).filteredOn(line -> line.contains(id) && line.contains("iteration 1 dispatched")).singleElement()
                    .asString().contains("(until not met: satisfied eq true, was false)");
        }
        assertThat(iterations(executionId)).extracting(r -> r.get("text"))
                .containsExactly("draft of camel+", "draft of camel++", "draft of camel+++");
        assertThat(iterations(executionId)).extracting(r -> r.get("status")).containsOnly("completed");
        // each iteration ran on the previous one's output
        assertThat(iterations(executionId).get(2).get("draft")).isEqualTo("draft of camel++");
        assertThat(stepRow(executionId, "deliver").get("input").toString()).contains("draft of camel+++");
    }

    /** A retry of the execution runs the loop's failed (second) iteration again on the input its feedback gave it. */
    @Test
    void aRetriedExecutionRunsTheFailedIterationOnItsFedBackInput() {
        String eventId = sendEvent("T_LOOP_RETRY", "{\"topic\":\"camel\"}");
        await().atMost(Duration.ofSeconds(20)).until(() -> "failed".equals(executionStatus(executionOf(eventId))));
        String executionId = executionOf(eventId);
        assertThat(ExecutionProbe.post("/api/executions/" + executionId + "/retry", null).statusCode()).isEqualTo(202);
        await().atMost(Duration.ofSeconds(20)).until(() -> "completed".equals(executionStatus(executionId)));

        assertThat(iterations(executionId)).extracting(r -> r.get("draft"))
                .containsExactly("draft of camel", "draft of camel+", "draft of camel++");
        assertThat(iterations(executionId).get(2).get("text")).isEqualTo("draft of camel+++");
        List<ScriptedAgents.Received> second = ExecutionProbe.requests(agents, executionId, "refine").stream()
                .filter(r -> r.request().path("iteration").asInt() == 1).toList();
        assertThat(second).hasSize(2).allSatisfy(r -> assertThat(r.input().path("draft").asText()).isEqualTo("draft of camel+"));
        // the iteration after the retried one has the step's own budget (max_retries 0: one attempt), not the
        // retried iteration's, which counted on from its earlier attempt
        assertThat(query("SELECT max_attempts FROM workflow_step_executions WHERE execution_id = ? AND step_id = 'refine' AND iteration = 2",
                executionId).get(0).get("max_attempts")).isEqualTo(1);
        assertThat(ExecutionProbe.requests(agents, executionId, "refine").stream()
                .filter(r -> r.request().path("iteration").asInt() == 2)).singleElement()
                .satisfies(r -> assertThat(r.correlationId()).endsWith("/refine/1"));
    }

    @Test
    void stopsAtTheIterationBound() {
        String executionId = run(99);
        assertThat(iterations(executionId)).hasSize(4);
        assertThat(stepStatuses(executionId)).containsEntry("deliver", "completed");
        assertThat(stepRow(executionId, "deliver").get("input").toString()).contains("draft of camel++++");
    }

    /** With {@code fail_when_exhausted} the last iteration fails, and keeps the output it came back with. */
    @Test
    void aLoopThatFailsWhenExhaustedKeepsItsLastOutput() {
        String eventId = sendEvent("T_LOOP_EXHAUSTED", "{\"topic\":\"camel\",\"target_revision\":99}");
        await().atMost(Duration.ofSeconds(20)).until(() -> "failed".equals(executionStatus(executionOf(eventId))));
        String executionId = executionOf(eventId);
        List<Map<String, Object>> iterations = iterations(executionId);
        assertThat(iterations).extracting(r -> r.get("status")).containsExactly("completed", "failed");
        assertThat(iterations).extracting(r -> r.get("text")).containsExactly("camel+", "camel++");
        assertThat(query("SELECT error FROM workflow_step_executions WHERE execution_id = ? AND step_id = 'refine' AND iteration = 1",
                executionId).get(0).get("error")).asString()
                .isEqualTo("loop ended after 2 iterations without satisfying its until condition (satisfied eq true, was false)");
        assertThat(stepStatuses(executionId)).doesNotContainEntry("deliver", "completed");
    }

    /**
     * A retry of an execution whose loop failed exhausted gives the loop its max_iterations again, from the iteration it
     * resumes: that iteration is judged again, and new iterations follow (it failed again at once, judging the same draft).
     */
    @Test
    void aRetryGivesALoopThatFailedExhaustedItsIterationsAgain() {
        String eventId = sendEvent("T_LOOP_EXHAUSTED", "{\"topic\":\"camel\",\"target_revision\":3}");
        await().atMost(Duration.ofSeconds(20)).until(() -> "failed".equals(executionStatus(executionOf(eventId))));
        String executionId = executionOf(eventId);
        assertThat(ExecutionProbe.post("/api/executions/" + executionId + "/retry", null).statusCode()).isEqualTo(202);
        await().atMost(Duration.ofSeconds(20)).until(() -> !"running".equals(executionStatus(executionId)));

        assertThat(executionStatus(executionId)).isEqualTo("completed");
        assertThat(iterations(executionId)).extracting(r -> r.get("status"), r -> r.get("text")).containsExactly(
                org.assertj.core.groups.Tuple.tuple("completed", "camel+"), org.assertj.core.groups.Tuple.tuple("completed", "camel++"),
                org.assertj.core.groups.Tuple.tuple("completed", "camel+++"));
        assertThat(stepRow(executionId, "deliver").get("input").toString()).contains("camel+++");
    }

    /**
     * A broker restart between the commit of complete-and-iterate.sql and the JMS commit takes the next
     * iteration's request away and brings the reply back. That redelivery (the same message id) finds
     * its iteration completed and goes to the iteration-resend route, which sends the request again;
     * another message that finds it so (a duplicate from the agent) re-sends nothing.
     */
    @Test
    void theReplyThatStartedAnIterationResendsItsRequestWhenRedelivered() throws Exception {
        String executionId = executionOfAwaited(sendEvent("T_LOOP_RESEND", "{\"draft\":\"d\"}"));
        await().atMost(Duration.ofSeconds(20)).until(() -> iterationRequests(executionId, 1) == 1);
        Map<String, Object> second = query("SELECT dispatched_by FROM workflow_step_executions "
                + "WHERE execution_id = ? AND step_id = 'refine' AND iteration = 1", executionId).get(0);
        String startedBy = (String) second.get("dispatched_by");
        assertThat(startedBy).as("the reply message that started iteration 1").isNotBlank();

        org.apache.camel.ProducerTemplate producer = shared().camelContext().createProducerTemplate();
        // the headers ReplyRoutes hands over with a reply found settled
        Map<String, Object> headers = new java.util.HashMap<>(Map.of("executionId", executionId, "workflowId", "t_loop_resend",
                "workflowVersion", 1, "routeKey", "t_loop_resend", "stepId", "refine", "iteration", 0,
                "causeMessageId", "ID:some-other-message"));
        try {
            producer.sendBodyAndHeaders(Endpoints.iterationResend("t_loop_resend", "refine"), null, headers);
            headers.put("causeMessageId", startedBy);
            producer.sendBodyAndHeaders(Endpoints.iterationResend("t_loop_resend", "refine"), null, headers);
        } finally {
            producer.stop();
        }

        await().atMost(Duration.ofSeconds(10)).until(() -> iterationRequests(executionId, 1) == 2);
        List<ScriptedAgents.Received> requests = agents.received().stream()
                .filter(r -> r.request().path("execution_id").asText().equals(executionId) && r.request().path("iteration").asInt() == 1)
                .toList();
        assertThat(requests.get(1).correlationId()).isEqualTo(requests.get(0).correlationId());
        assertThat(requests.get(1).input().path("draft").asText()).isEqualTo("d+");
        assertThat(executionStatus(executionId)).isEqualTo("running");
        // done with it: the execution timeout sweep ends it
        new org.springframework.jdbc.core.JdbcTemplate(shared().dataSource())
                .update("UPDATE workflow_executions SET deadline = now() WHERE id = ?", executionId);
    }

    /**
     * As above, when the next iteration's reply is recorded (another consumer took it) after the redelivery read that
     * iteration running and before its request left: the redelivery sent it all the same, with the message's commit.
     * It now leaves the request to the retry sweep (its lease made due, only while the iteration still runs): here
     * nothing is made due, and nothing goes.
     */
    @Test
    void theReplyThatStartedAnIterationDoesNotSendItAgainOnceItsReplyWasRecorded() throws Exception {
        String executionId = executionOfAwaited(sendEvent("T_LOOP_RESEND", "{\"draft\":\"d\"}"));
        await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(50)).until(() -> iterationRequests(executionId, 1) == 1);
        Map<String, Object> second = query("SELECT id, dispatched_by FROM workflow_step_executions "
                + "WHERE execution_id = ? AND step_id = 'refine' AND iteration = 1", executionId).get(0);
        String startedBy = (String) second.get("dispatched_by");
        String correlationId = agents.received().stream()
                .filter(r -> r.request().path("execution_id").asText().equals(executionId) && r.request().path("iteration").asInt() == 1)
                .findFirst().orElseThrow().correlationId();
        ReplyAfterTheReplayRead replyAfterRead = new ReplyAfterTheReplayRead("find-next-iteration", exchange ->
                executionId.equals(exchange.getMessage().getHeader(Headers.EXECUTION_ID)) && exchange.getMessage().getBody() != null,
                correlationId, "{\"status\": \"ok\", \"output\": {\"text\": \"d++\", \"satisfied\": true}}", second.get("id").toString());
        // the headers ReplyRoutes hands over with a reply found settled
        replyAfterRead.watchWhile(shared().camelContext(), producer -> producer.sendBodyAndHeaders(
                Endpoints.iterationResend("t_loop_resend", "refine"), null, new java.util.HashMap<>(Map.of(
                        "executionId", executionId, "workflowId", "t_loop_resend", "workflowVersion", 1, "routeKey", "t_loop_resend",
                        "stepId", "refine", "iteration", 0, "causeMessageId", startedBy))));
        assertThat(replyAfterRead.seen.get()).isEqualTo("recorded");
        assertThat(replyAfterRead.afterTheRead).as("the endpoints the redelivery's exchange went to, or came back from, after it read iteration 1 running")
                .noneMatch(uri -> uri.contains("agent.loop-resend-agent"));
        assertThat(query("SELECT 1 FROM workflow_step_executions WHERE id = ? AND request_due_at IS NOT NULL", second.get("id")))
                .as("iteration 1's lease, made due for the retry sweep to send its request").isEmpty();
        await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(50)).until(() -> "completed".equals(executionStatus(executionId)));
        assertThat(iterationRequests(executionId, 1)).as("requests of iteration 1").isEqualTo(1);
    }

    private static String executionOfAwaited(String eventId) {
        await().atMost(Duration.ofSeconds(20)).until(() -> executionOf(eventId) != null);
        return executionOf(eventId);
    }

    private static long iterationRequests(String executionId, int iteration) {
        return agents.received().stream()
                .filter(r -> r.request().path("execution_id").asText().equals(executionId) && r.request().path("iteration").asInt() == iteration)
                .count();
    }

    /** A loop of one step with include_context: each iteration's request carries the context as it is when it starts. */
    @Test
    void eachIterationGetsTheContextAsItIsThen() {
        String eventId = sendEvent("T_LOOP_CONTEXT", "{\"draft\":\"d\"}");
        await().atMost(Duration.ofSeconds(20)).until(() -> "completed".equals(executionStatus(executionOf(eventId))));
        String executionId = executionOf(eventId);
        List<ScriptedAgents.Received> requests = ExecutionProbe.requests(agents, executionId, "refine");
        assertThat(requests).extracting(r -> r.request().path("iteration").asInt()).containsExactly(0, 1, 2);
        assertThat(requests).extracting(r -> r.request().path("context").path("shared_memory").path("revisions").asInt(0))
                .as("the shared memory each iteration's request saw").containsExactly(0, 1, 2);
        assertThat(query("SELECT request_context->'shared_memory'->>'revisions' AS revisions FROM workflow_step_executions "
                + "WHERE execution_id = ? AND step_id = 'refine' AND iteration = 2", executionId).get(0).get("revisions")).isEqualTo("2");
    }
}
