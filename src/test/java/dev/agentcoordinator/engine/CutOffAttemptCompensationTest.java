package dev.agentcoordinator.engine;

import dev.agentcoordinator.CoordinatorApp;
import dev.agentcoordinator.RunningCoordinator;
import dev.agentcoordinator.config.CoordinatorSettings;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.jdbc.core.JdbcTemplate;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static dev.agentcoordinator.engine.ScriptedAgents.Reply;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Compensations of attempts a cancel cut off: a coordinator of its own, since a test stops its reply route (the other tests' replies
 * would wait behind it). Its tests run one after the other (the class default).
 */
class CutOffAttemptCompensationTest {
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static Path folder;
    private static RunningCoordinator coordinator;
    private static JdbcTemplate jdbc;
    private static ScriptedAgents agents;

    @BeforeAll
    static void start() throws Exception {
        folder = dev.agentcoordinator.TestFolders.create("cut-off-compensation");
        coordinator = CoordinatorApp.start(CoordinatorSettings.fromMap(Map.of(
                "data.dir", dev.agentcoordinator.DatabaseTemplate.seeded(folder.resolve("data")).toString(),
                "broker.embedded.port", "0",
                "http.port", "0",
                "demo-agents.enabled", "false",
                "supervisor.period-ms", "50",
                "workflows.dir", "src/test/resources/cut-off-workflows")));
        jdbc = new JdbcTemplate(coordinator.dataSource());
        agents = new ScriptedAgents(coordinator.connectionFactory())
                .agent("sr-agent", r -> List.of(Reply.ok(Map.of("done", r.action()))))
                .agent("sr-silent", r -> List.of());   // takes its request, never answers
    }

    @AfterAll
    static void stop() throws Exception {
        agents.close();
        coordinator.close();
        org.springframework.util.FileSystemUtils.deleteRecursively(folder);
    }

    /**
     * pay's agent reported it done in time (the reply reached the broker before the attempt's deadline) but the reply
     * still waits in the reply queue (a backlog: here an operator stopped the reply route) when the execution is
     * cancelled, after that deadline. The step is still in flight (its timeout sweep holds for queued replies, and the
     * reply, processed, would complete it), so its compensation should be held for that reply, and the work undone.
     * attempts_to_hold (V47) holds only attempts whose deadline is still ahead: pay's work stays in place, a WARN its
     * only trace, and the execution ends compensated.
     */
    @Test
    void aStepReportedDoneInTimeWhoseReplyIsQueuedAtTheCancelIsUndone() throws Exception {
        String executionId = started("SR_BACKLOG", "pay");
        await().atMost(Duration.ofSeconds(10)).until(() -> actionsOf(executionId).contains("pay"));
        org.apache.camel.spi.RouteController routes = coordinator.camelContext().getRouteController();
        routes.stopRoute(ReplyRoutes.ROUTE_ID);
        try {
            assertThat(post("/api/executions/" + executionId + "/steps/pay/reply",
                    "{\"status\": \"ok\", \"output\": {\"paid\": 42}}").statusCode()).isEqualTo(202);
            // the attempt's deadline (1500 ms) passes while the reply waits in the queue, sent in time
            await().atMost(Duration.ofSeconds(10)).until(() -> Boolean.TRUE.equals(jdbc.queryForObject(
                    "SELECT deadline < now() FROM workflow_step_executions WHERE execution_id = ? AND step_id = 'pay'",
                    Boolean.class, executionId)));
            assertThat(stepStatus(executionId, "pay")).isEqualTo("running");
            HttpResponse<String> cancelled = post("/api/executions/" + executionId + "/cancel", null);
            assertThat(cancelled.statusCode()).isEqualTo(200);
        } finally {
            routes.startRoute(ReplyRoutes.ROUTE_ID);
        }
        await().atMost(Duration.ofSeconds(20)).until(() -> "compensated".equals(executionStatus(executionId)));
        // what pay's agent reported done, in time, is undone with its output, before book's undo
        assertThat(actionsOf(executionId)).containsExactly("book", "pay", "repay", "unbook");
        assertThat(jdbc.queryForList("SELECT status, input::text AS input FROM workflow_step_executions WHERE execution_id = ?"
                + " AND step_id = 'pay' AND kind = 'compensation'", executionId)).singleElement()
                .satisfies(row -> assertThat(row).containsEntry("status", "completed").containsEntry("input", "{\"paid\": 42}"));
    }

    /**
     * http-api.md (cancel): "a success that comes after its step's compensation stopped waiting is a WARN ("…; its agent
     * reports it done, and it is not undone: …"), also once a retry of the execution runs the step's next attempt".
     * The cut-off attempt 1 reported not done (its undo skipped, the execution ended cancelled), the execution is
     * retried (attempt 2 runs), then attempt 1's agent reports it done after all.
     */
    @Test
    void aSuccessOfTheCutOffAttemptAfterARetryIsNamedAsNotUndone() throws Exception {
        String executionId = started("SR_CUT", "pay");
        await().atMost(Duration.ofSeconds(10)).until(() -> actionsOf(executionId).contains("pay"));
        String firstAttempt = agents.received().stream().filter(r -> r.request().path("execution_id").asText().equals(executionId))
                .findFirst().orElseThrow().correlationId();
        assertThat(Json.parse(post("/api/executions/" + executionId + "/cancel", null).body()).path("status").asText())
                .isEqualTo("compensating");
        assertThat(post("/api/executions/" + executionId + "/steps/pay/reply", "{\"status\": \"error\", \"error\": \"not done\"}")
                .statusCode()).isEqualTo(202);
        await().atMost(Duration.ofSeconds(10)).until(() -> "cancelled".equals(executionStatus(executionId)));
        assertThat(post("/api/executions/" + executionId + "/retry", null).statusCode()).isEqualTo(202);
        await().atMost(Duration.ofSeconds(10)).until(() -> actionsOf(executionId).size() == 2);

        int ignoredBefore = ignored(executionId);
        try (CapturedLog progress = CapturedLog.of(Endpoints.PROGRESS_LOG)) {
            sendReply(firstAttempt, "{\"status\": \"ok\", \"output\": {\"paid\": 7}}");
            await().atMost(Duration.ofSeconds(10)).until(() -> ignored(executionId) > ignoredBefore);
            await().atMost(Duration.ofSeconds(5)).until(() -> progress.lines().stream()
                    .anyMatch(line -> line.contains("reply ignored") && line.contains("attempt 1 of step pay")));
            assertThat(jdbc.queryForObject("SELECT reason FROM ignored_replies WHERE execution_id = ? ORDER BY received_at DESC LIMIT 1",
                    String.class, executionId)).contains("it is not undone");
            assertThat(progress.lines()).filteredOn(line -> line.contains("reply ignored") && line.contains("attempt 1 of step pay"))
                    .singleElement().satisfies(line -> assertThat(line).startsWith("WARN"));
        }
    }

    /** A success reported after the step's last attempt timed out stands: the WARN says it is not undone. */
    @Test
    void aSuccessAfterTheLastAttemptTimedOutIsNamedAsNotUndone() throws Exception {
        String executionId = started("SR_TIMEOUT", "pay");
        await().atMost(Duration.ofSeconds(10)).until(() -> actionsOf(executionId).contains("pay"));
        String attempt = agents.received().stream().filter(r -> r.request().path("execution_id").asText().equals(executionId))
                .findFirst().orElseThrow().correlationId();
        await().atMost(Duration.ofSeconds(20)).until(() -> "failed".equals(executionStatus(executionId)));

        try (CapturedLog progress = CapturedLog.of(Endpoints.PROGRESS_LOG)) {
            sendReply(attempt, "{\"status\": \"ok\", \"output\": {\"paid\": 3}}");
            await().atMost(Duration.ofSeconds(10)).until(() -> ignored(executionId) > 0);
            assertThat(jdbc.queryForObject("SELECT reason FROM ignored_replies WHERE execution_id = ?", String.class, executionId))
                    .contains("(attempt 1 timed out after 1000 ms)")
                    .endsWith("; its agent reports it done, and it is not undone: a step whose last attempt timed out gets no"
                            + " compensation (undo it by hand if it must be)");
            await().atMost(Duration.ofSeconds(5)).until(() -> progress.lines().stream()
                    .anyMatch(line -> line.contains("reply ignored") && line.contains("attempt 1 of step pay")));
            assertThat(progress.lines()).filteredOn(line -> line.contains("reply ignored") && line.contains("attempt 1 of step pay"))
                    .singleElement().satisfies(line -> assertThat(line).startsWith("WARN"));
        }
    }

    private static int ignored(String executionId) {
        return jdbc.queryForObject("SELECT count(*) FROM ignored_replies WHERE execution_id = ?", Integer.class, executionId);
    }

    private static String started(String trigger, String step) throws Exception {
        String eventId = Json.parse(post("/api/events", "{\"type\": \"" + trigger + "\", \"payload\": {}}").body()).path("event_id").asText();
        await().atMost(Duration.ofSeconds(20)).until(() -> !jdbc.queryForList("SELECT 1 FROM workflow_executions e JOIN"
                + " workflow_step_executions s ON s.execution_id = e.id WHERE e.trigger_event_key = ? AND s.step_id = ? AND s.status = 'running'",
                eventId, step).isEmpty());
        return jdbc.queryForObject("SELECT id FROM workflow_executions WHERE trigger_event_key = ?", String.class, eventId);
    }

    private static List<String> actionsOf(String executionId) {
        return agents.received().stream().filter(r -> r.request().path("execution_id").asText().equals(executionId))
                .map(ScriptedAgents.Received::action).toList();
    }

    private static String executionStatus(String executionId) {
        return jdbc.queryForObject("SELECT status FROM workflow_executions WHERE id = ?", String.class, executionId);
    }

    private static String stepStatus(String executionId, String stepId) {
        return jdbc.queryForObject("SELECT status FROM workflow_step_executions WHERE execution_id = ? AND step_id = ? AND kind = 'step'",
                String.class, executionId, stepId);
    }

    private static void sendReply(String correlationId, String body) throws jakarta.jms.JMSException {
        try (jakarta.jms.Connection connection = coordinator.connectionFactory().createConnection()) {
            jakarta.jms.Session session = connection.createSession(false, jakarta.jms.Session.AUTO_ACKNOWLEDGE);
            jakarta.jms.TextMessage message = session.createTextMessage(body);
            message.setJMSCorrelationID(correlationId);
            session.createProducer(session.createQueue(coordinator.settings().replyQueue())).send(message);
        }
    }

    private static HttpResponse<String> post(String path, String body) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(coordinator.httpUrl() + path)).header("Content-Type", "application/json")
                .POST(body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    }
}
