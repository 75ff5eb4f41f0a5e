package dev.agentcoordinator.engine;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import static dev.agentcoordinator.engine.TestCoordinator.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Spec pattern 4 with an evaluator of its own (loop.repeat_from): write, polish, then review (a fan-in that also
 * waits for a rubric), and while the reviewer does not approve, write again with its notes, polish and review
 * again; then publish. Every iteration of each step of the loop is a row of its own.
 */
class LoopOverStepsTest {
    private static ScriptedAgents agents;
    private static final Set<String> failedOnce = ConcurrentHashMap.newKeySet();

    @BeforeAll
    static void agents() throws Exception {
        agents = new ScriptedAgents(shared().connectionFactory())
                .echo("ls-editor", r -> switch (r.action()) {
                    case "brief" -> Map.of("text", "brief on " + r.input().path("topic").asText());
                    case "rubric" -> Map.of("target", r.input().path("target").asInt());
                    case "polish" -> Map.of("text", r.input().path("text").asText());
                    default -> Map.of("published", r.input().path("text").asText(), "verdict", r.input().path("verdict").asText());
                })
                .echo("ls-writer", r -> Map.of("text", written(r.input())))
                .echo("ls-critic", r -> {
                    String text = r.input().path("text").asText();
                    long pluses = text.chars().filter(c -> c == '+').count();
                    int target = r.input().path("target").asInt();
                    return Map.of("approved", pluses >= target, "text", text,
                            "notes", pluses >= target ? "fine" : "needs " + (target - pluses) + " more");
                })
                .agent("ls-flaky-writer", r -> r.request().path("iteration").asInt() == 1
                        && failedOnce.add(r.request().path("execution_id").asText())
                        ? List.of(ScriptedAgents.Reply.error("the writer is away", false))
                        : List.of(ScriptedAgents.Reply.ok(Map.of("text", written(r.input())))))
                .agent("ls-locked-writer", r -> List.of(ScriptedAgents.Reply.ok(Map.of("text", written(r.input()))).after(150)))
                .agent("ls-silent-writer", r -> r.request().path("iteration").asInt() == 0
                        ? List.of(ScriptedAgents.Reply.ok(Map.of("text", written(r.input()))))
                        : List.of());   // the second iteration's write gets no reply: it stays running
    }

    /** The writer revises the text its reviewer last saw, or starts from the brief. */
    private static String written(JsonNode input) {
        JsonNode previous = input.path("previous_iteration_output").path("text");
        return (previous.isTextual() ? previous.asText() : input.path("brief").asText()) + "+";
    }

    @AfterAll
    static void stop() throws Exception {
        agents.close();
    }

    private static List<Map<String, Object>> rows(String executionId, String stepId) {
        return query("SELECT iteration, status, input, output->>'text' AS text, output->>'notes' AS notes FROM workflow_step_executions "
                + "WHERE execution_id = ? AND step_id = ? AND kind = 'step' ORDER BY iteration", executionId, stepId);
    }

    private static String completed(String eventId) {
        await().atMost(Duration.ofSeconds(20)).until(() -> "completed".equals(executionStatus(executionOf(eventId))));
        return executionOf(eventId);
    }

    /**
     * A retry of an execution whose loop over several steps failed exhausted: the loop's step is judged again on its last
     * iteration, and then gets new iterations from the step it repeats from, up to its max_iterations again.
     */
    @Test
    void aRetryGivesALoopOverStepsThatFailedExhaustedItsIterationsAgain() {
        String eventId = sendEvent("T_LOOP_STEPS_EXHAUSTED", "{\"topic\":\"camel\",\"target\":3}");
        await().atMost(Duration.ofSeconds(20)).until(() -> "failed".equals(executionStatus(executionOf(eventId))));
        String executionId = executionOf(eventId);
        assertThat(rows(executionId, "review")).extracting(r -> r.get("status")).containsExactly("completed", "failed");
        assertThat(ExecutionProbe.post("/api/executions/" + executionId + "/retry", null).statusCode()).isEqualTo(202);

        await().atMost(Duration.ofSeconds(20)).until(() -> "completed".equals(executionStatus(executionId)));
        assertThat(rows(executionId, "write")).extracting(r -> r.get("text"))
                .containsExactly("brief on camel+", "brief on camel++", "brief on camel+++");
        assertThat(rows(executionId, "review")).extracting(r -> r.get("status")).containsExactly("completed", "completed", "completed");
        assertThat(stepRow(executionId, "publish").get("status")).isEqualTo("completed");
    }

    @Test
    void writesAndReviewsAgainUntilTheReviewerApproves() {
        String executionId = completed(sendEvent("T_LOOP_STEPS", "{\"topic\":\"camel\",\"target\":3}"));

        assertThat(rows(executionId, "write")).extracting(r -> r.get("text"))
                .containsExactly("brief on camel+", "brief on camel++", "brief on camel+++");
        assertThat(rows(executionId, "review")).extracting(r -> r.get("notes")).containsExactly("needs 2 more", "needs 1 more", "fine");
        assertThat(rows(executionId, "review")).extracting(r -> r.get("iteration")).containsExactly(0, 1, 2);
        assertThat(rows(executionId, "write")).extracting(r -> r.get("status")).containsOnly("completed");
        assertThat(rows(executionId, "polish")).extracting(r -> r.get("text"))
                .containsExactly("brief on camel+", "brief on camel++", "brief on camel+++");
        // the steps before the loop ran once, the one after it once, on the latest iteration's outputs
        assertThat(rows(executionId, "brief")).hasSize(1);
        assertThat(rows(executionId, "rubric")).hasSize(1);
        assertThat(rows(executionId, "publish")).singleElement()
                .satisfies(r -> assertThat(r.get("input").toString()).contains("brief on camel+++").contains("fine"));

        // each write after the first kept its mapped input and got the reviewer's notes and whole output
        JsonNode secondWrite = Json.parse(rows(executionId, "write").get(1).get("input").toString());
        assertThat(secondWrite.path("brief").asText()).isEqualTo("brief on camel");
        assertThat(secondWrite.path("notes").asText()).isEqualTo("needs 2 more");
        assertThat(secondWrite.path("previous_iteration_output").path("approved").asBoolean(true)).isFalse();
        // the reviews read the write of their own iteration
        assertThat(Json.parse(rows(executionId, "review").get(1).get("input").toString()).path("text").asText())
                .isEqualTo("brief on camel++");
        assertThat(ExecutionProbe.requests(agents, executionId, "write")).extracting(r -> r.request().path("iteration").asInt())
                .containsExactly(0, 1, 2);
        // the execution's result has each step as its latest iteration stood
        String result = query("SELECT result::text AS result FROM workflow_executions WHERE id = ?", executionId).get(0).get("result").toString();
        assertThat(Json.parse(result).path("write").path("output").path("text").asText()).isEqualTo("brief on camel+++");
    }

    /** Hawtio shows the loop on the loop step's route. */
    @Test
    void theLoopStepsRouteDescribesItsLoop() {
        assertThat(shared().camelContext().getRoute("wf.t_loop_steps.review").getDescription())
                .isEqualTo("ls-critic.review after polish, rubric, again until approved eq true (at most 4 iterations, each from write)");
    }

    @Test
    void stopsAtTheIterationBound() {
        String executionId = completed(sendEvent("T_LOOP_STEPS", "{\"topic\":\"camel\",\"target\":99}"));
        assertThat(rows(executionId, "write")).hasSize(4);
        assertThat(rows(executionId, "review")).hasSize(4).last().satisfies(r -> assertThat(r.get("notes")).isEqualTo("needs 95 more"));
        assertThat(rows(executionId, "publish").get(0).get("input").toString()).contains("brief on camel++++");
    }

    /**
     * A write that fails in the second iteration skips that iteration's review and fails the execution; a retry of
     * the execution writes again on the input the feedback gave it, and the loop goes on from there.
     */
    @Test
    void aRetriedExecutionGoesOnWithTheIterationThatFailed() {
        String eventId = sendEvent("T_LOOP_STEPS_RETRY", "{\"topic\":\"camel\"}");
        await().atMost(Duration.ofSeconds(20)).until(() -> "failed".equals(executionStatus(executionOf(eventId))));
        String executionId = executionOf(eventId);
        assertThat(rows(executionId, "write")).extracting(r -> r.get("status")).containsExactly("completed", "failed");
        assertThat(rows(executionId, "review")).extracting(r -> r.get("status")).containsExactly("completed", "skipped");

        assertThat(ExecutionProbe.post("/api/executions/" + executionId + "/retry", null).statusCode()).isEqualTo(202);
        await().atMost(Duration.ofSeconds(20)).until(() -> "completed".equals(executionStatus(executionId)));
        assertThat(rows(executionId, "write")).extracting(r -> r.get("text")).containsExactly("camel+", "camel++", "camel+++");
        assertThat(ExecutionProbe.requests(agents, executionId, "write").stream().filter(r -> r.request().path("iteration").asInt() == 1))
                .hasSize(2).allSatisfy(r -> assertThat(r.input().path("notes").asText()).isEqualTo("needs 2 more"));
    }

    /**
     * A broker restart between the commit of the statement that started the next iteration and the JMS commit takes
     * the write's request away and brings the review's reply back: its redelivery re-sends the write's request.
     */
    @Test
    void theReviewThatStartedAnIterationResendsTheWriteWhenRedelivered() throws Exception {
        String eventId = sendEvent("T_LOOP_STEPS_RESEND", "{\"topic\":\"camel\"}");
        await().atMost(Duration.ofSeconds(20)).until(() -> executionOf(eventId) != null);
        String executionId = executionOf(eventId);
        await().atMost(Duration.ofSeconds(20)).until(() -> writeRequests(executionId, 1) == 1);
        String startedBy = (String) query("SELECT dispatched_by FROM workflow_step_executions "
                + "WHERE execution_id = ? AND step_id = 'write' AND iteration = 1", executionId).get(0).get("dispatched_by");
        assertThat(startedBy).as("the review's reply that started iteration 1").isNotBlank();

        org.apache.camel.ProducerTemplate producer = shared().camelContext().createProducerTemplate();
        Map<String, Object> headers = new java.util.HashMap<>(Map.of("executionId", executionId, "workflowId", "t_loop_steps_resend",
                "workflowVersion", 1, "routeKey", "t_loop_steps_resend", "stepId", "review", "iteration", 0,
                "causeMessageId", "ID:some-other-message"));
        try {
            producer.sendBodyAndHeaders(Endpoints.iterationResend("t_loop_steps_resend", "review"), null, headers);
            headers.put("causeMessageId", startedBy);
            producer.sendBodyAndHeaders(Endpoints.iterationResend("t_loop_steps_resend", "review"), null, headers);
        } finally {
            producer.stop();
        }

        await().atMost(Duration.ofSeconds(10)).until(() -> writeRequests(executionId, 1) == 2);
        List<ScriptedAgents.Received> requests = agents.received().stream()
                .filter(r -> r.request().path("execution_id").asText().equals(executionId) && r.request().path("iteration").asInt() == 1)
                .toList();
        assertThat(requests).extracting(ScriptedAgents.Received::agent).containsOnly("ls-silent-writer");
        assertThat(requests.get(1).correlationId()).isEqualTo(requests.get(0).correlationId());
        assertThat(requests.get(1).request().path("step_id").asText()).isEqualTo("write");
        assertThat(requests.get(1).input().path("notes").asText()).isEqualTo("needs 2 more");
        assertThat(executionStatus(executionId)).isEqualTo("running");
        // done with it: the execution timeout sweep ends it
        new org.springframework.jdbc.core.JdbcTemplate(shared().dataSource())
                .update("UPDATE workflow_executions SET deadline = now() WHERE id = ?", executionId);
    }

    /**
     * The first step of a loop over several steps that declares a lock takes it for each iteration's write, as any
     * step's start does: two executions writing one document take turns, every write of either holding the lock.
     */
    @Test
    void aLockedFirstStepTakesItsLockForEachIteration() {
        String topic = "doc-" + System.nanoTime();
        String first = sendEvent("T_LOOP_STEPS_LOCKS", "{\"topic\":\"" + topic + "\"}");
        String second = sendEvent("T_LOOP_STEPS_LOCKS", "{\"topic\":\"" + topic + "\"}");
        String one = completed(first);
        String two = completed(second);

        List<Map<String, Object>> writes = query("SELECT execution_id, iteration, started_at, completed_at FROM workflow_step_executions "
                + "WHERE execution_id IN (?, ?) AND step_id = 'write' ORDER BY started_at", one, two);
        assertThat(writes).hasSize(6).allSatisfy(w -> assertThat(w.get("completed_at")).isNotNull());
        // one document, one writer at a time: each write ended before the next began. Both times are their transactions'
        // starts (now()): a start that began while the completion held the lock row waits for its commit, and may be
        // stamped a few milliseconds before it (1 ms once in a full suite); an overlap would be a write's 150 ms
        for (int i = 1; i < writes.size(); i++) {
            assertThat(((java.sql.Timestamp) writes.get(i).get("started_at")).toInstant())
                    .as("write %d started after write %d ended", i, i - 1)
                    .isAfterOrEqualTo(((java.sql.Timestamp) writes.get(i - 1).get("completed_at")).toInstant().minusMillis(50));
        }
        assertThat(rows(one, "write")).extracting(r -> r.get("text")).containsExactly(topic + "+", topic + "++", topic + "+++");
        // the review, locked too, gets its mapped input in every iteration: its later rows were sent none, and the critic,
        // reading no target, approved the second draft
        assertThat(rows(one, "review")).hasSize(3).allSatisfy(r -> assertThat(String.valueOf(r.get("input"))).contains("\"target\": 3"));
        assertThat(query("SELECT count(*) AS n FROM resource_locks WHERE resource_id = ?", topic).get(0).get("n")).isEqualTo(0L);
    }

    /**
     * The reply that completes an iteration of a loop whose first step takes locks creates the next iteration's rows, that
     * step's pending, and then starts it through its step route, in a transaction of its own. When that start fails (the
     * database, a stop of the coordinator) the reply goes back to the broker; its redelivery, which finds the iteration
     * completed, starts the step, as a redelivery re-sends the request of a step found running. Before, it left the step
     * pending for the stalled-execution sweep (stopped here): 10 s later, and only once nothing else of the execution ran.
     */
    @Test
    void aRedeliveredReplyStartsTheLockedFirstStepOfTheIterationItsFirstDeliveryCouldNotStart() throws Exception {
        String topic = "redelivered-" + System.nanoTime();
        org.springframework.jdbc.core.JdbcTemplate jdbc = new org.springframework.jdbc.core.JdbcTemplate(shared().dataSource());
        String trigger = "test_refused_once_" + System.nanoTime();
        org.apache.camel.spi.RouteController routes = shared().camelContext().getRouteController();
        try (dev.agentcoordinator.DroppedAtClose created = new dev.agentcoordinator.DroppedAtClose(jdbc)) {
            created.create("CREATE SEQUENCE " + trigger + "_count", "DROP SEQUENCE IF EXISTS " + trigger + "_count");
            created.create("""
                    CREATE FUNCTION %s() RETURNS trigger AS $$
                    BEGIN
                        IF nextval(TG_ARGV[0]) = 1 THEN   -- a sequence is not rolled back with the refused statement
                            RAISE EXCEPTION 'start refused once by the test';
                        END IF;
                        RETURN NEW;
                    END;
                    $$ LANGUAGE plpgsql""".formatted(trigger), "DROP FUNCTION IF EXISTS " + trigger + "()");
            // the second iteration's write, started in the transaction that takes its lock, fails once
            created.create("CREATE TRIGGER " + trigger + " BEFORE UPDATE ON workflow_step_executions FOR EACH ROW WHEN (NEW.step_id = 'write'"
                    + " AND NEW.iteration = 1 AND NEW.status = 'running' AND OLD.status <> 'running' AND NEW.input ->> 'brief' = '" + topic
                    + "') EXECUTE FUNCTION " + trigger + "('" + trigger + "_count')", "DROP TRIGGER IF EXISTS " + trigger + " ON workflow_step_executions");
            routes.stopRoute("coordinator.stalled-executions");
            // the deliveries of this execution's replies that failed: the refused start's, and no other (the redelivery that
            // starts the step completes, rather than failing after it and leaving the start to a third delivery)
            org.apache.camel.builder.NotifyBuilder twoFailures = new org.apache.camel.builder.NotifyBuilder(shared().camelContext())
                    .fromRoute(ReplyRoutes.ROUTE_ID)
                    .filter(exchange -> String.valueOf(exchange.getProperty(ReplyRoutes.REPLY_TEXT)).contains(topic))
                    .whenFailed(2).create();
            String eventId = sendEvent("T_LOOP_STEPS_LOCKS", "{\"topic\":\"" + topic + "\"}");
            await().atMost(Duration.ofSeconds(20)).until(() -> jdbc.queryForObject("SELECT is_called FROM " + trigger + "_count", Boolean.class));
            String executionId = executionOf(eventId);

            await().atMost(Duration.ofSeconds(15)).until(() -> writeRequests(executionId, 1) == 1);
            assertThat(completed(eventId)).isEqualTo(executionId);
            assertThat(twoFailures.matches()).as("a delivery of the reply failed after the refused one").isFalse();
            assertThat(rows(executionId, "write")).extracting(r -> r.get("text")).containsExactly(topic + "+", topic + "++", topic + "+++");
        } finally {
            routes.startRoute("coordinator.stalled-executions");
        }
    }

    private static long writeRequests(String executionId, int iteration) {
        return agents.received().stream()
                .filter(r -> r.request().path("execution_id").asText().equals(executionId) && r.stepId().equals("write")
                        && r.request().path("iteration").asInt() == iteration)
                .count();
    }
}
