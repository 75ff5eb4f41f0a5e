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

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;
import static org.awaitility.Awaitility.await;

/**
 * Nothing is dispatched past an execution's deadline. A reply processed after it (one that waited in the reply queue
 * while no coordinator ran: the timeout sweeps hold for such a backlog) completes its step, but starts neither a
 * dependent nor a loop's next iteration; the execution's timeout then fails it and skips the rest. Before, they were
 * sent past the deadline, and what their agents did was never undone. A coordinator of its own: the test stops its
 * execution-timeout sweep, which the other tests' executions must not wait for.
 */
class PastTheDeadlineTest {
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static Path folder;
    private static RunningCoordinator coordinator;
    private static JdbcTemplate jdbc;

    @BeforeAll
    static void start() throws Exception {
        folder = Files.createTempDirectory("past-deadline-");
        coordinator = CoordinatorApp.start(CoordinatorSettings.fromMap(Map.of(
                "data.dir", dev.agentcoordinator.DatabaseTemplate.seeded(folder.resolve("data")).toString(),
                "broker.embedded.port", "0",
                "http.port", "0",
                "demo-agents.enabled", "false",
                "workflows.dir", "src/test/resources/past-deadline-workflows")));
        jdbc = new JdbcTemplate(coordinator.dataSource());
    }

    @AfterAll
    static void stop() throws Exception {
        coordinator.close();
        org.springframework.util.FileSystemUtils.deleteRecursively(folder);
    }

    @Test
    void aReplyProcessedPastItsExecutionsDeadlineStartsNoDependent() throws Exception {
        String executionId = started("DEPENDENT", "first");
        answeredPastTheDeadline(executionId, "first", "{}", "after");
        assertThat(rows(executionId)).containsExactly(tuple("after", 0, "skipped", 0), tuple("first", 0, "completed", 1));
    }

    @Test
    void aLoopReplyProcessedPastItsExecutionsDeadlineStartsNoIteration() throws Exception {
        String executionId = started("LOOP", "refine");
        answeredPastTheDeadline(executionId, "refine", "{\"satisfied\": false}", "refine");
        assertThat(rows(executionId)).containsExactly(tuple("refine", 0, "completed", 1), tuple("refine", 1, "skipped", 0));
    }

    /** A loop over several steps (loop.repeat_from): its next iteration would start again at its first step. */
    @Test
    void aLoopOverStepsReplyProcessedPastItsExecutionsDeadlineStartsNoIteration() throws Exception {
        String executionId = started("LOOP_STEPS", "write");
        assertThat(reply(executionId, "write", "{}").statusCode()).isEqualTo(202);
        // the reply is processed after its 202: review runs once it is
        await().atMost(Duration.ofSeconds(20)).until(() -> !jdbc.queryForList("SELECT 1 FROM workflow_step_executions"
                + " WHERE execution_id = ? AND step_id = 'review' AND status = 'running'", executionId).isEmpty());
        answeredPastTheDeadline(executionId, "review", "{\"approved\": false}", "write");
        assertThat(rows(executionId)).containsExactly(tuple("review", 0, "completed", 1), tuple("write", 0, "completed", 1),
                tuple("review", 1, "skipped", 0), tuple("write", 1, "skipped", 0));
    }

    /**
     * An attempt whose deadline is its execution's (V46: no later than it): a reply that reaches the broker after it is
     * ignored as late, and says the execution times out, not the attempt (which the execution's timeout settles).
     */
    @Test
    void aReplyPastADeadlineThatIsTheExecutionsSaysTheExecutionTimesOut() throws Exception {
        String executionId = started("DEPENDENT", "first");
        beforeTheExecutionTimesOut(executionId, () -> {
            // one transaction: both deadlines the same instant, as V46 gives an attempt capped by its execution's
            jdbc.update("WITH moved AS (UPDATE workflow_executions SET deadline = now() - interval '1 second' WHERE id = ? RETURNING id)"
                    + " UPDATE workflow_step_executions s SET deadline = now() - interval '1 second' FROM moved"
                    + " WHERE s.execution_id = moved.id AND s.step_id = 'first'", executionId);
            assertThat(reply(executionId, "first", "{}").statusCode()).isEqualTo(202);
            await().atMost(Duration.ofSeconds(10)).until(() -> !jdbc.queryForList("SELECT 1 FROM ignored_replies WHERE execution_id = ?",
                    executionId).isEmpty());
            assertThat(jdbc.queryForObject("SELECT reason FROM ignored_replies WHERE execution_id = ?", String.class, executionId))
                    .startsWith("late reply for attempt 1 of step first: it reached the broker at ")
                    .endsWith(", its execution's; the execution times out");
        });
    }

    /**
     * A reply that reaches the broker after its attempt's deadline settles nothing, also when it is processed before
     * the timeout sweep comes round (which holds back while replies are queued): the attempt times out and is retried,
     * as if the sweep had come first. Before, the late reply completed the step.
     */
    @Test
    void aReplyThatReachesTheBrokerAfterItsAttemptsDeadlineSettlesNothing() throws Exception {
        String executionId = started("ATTEMPT", "slow");
        answeredAfterTheAttemptsDeadline(executionId, "{\"status\": \"ok\", \"output\": {\"late\": true}}");

        assertThat(jdbc.queryForObject("SELECT reason FROM ignored_replies WHERE execution_id = ?", String.class, executionId)).startsWith("late reply for attempt 1 of step slow: it reached the broker at ")
                .endsWith("; the attempt is timed out");
        // and the execution's view shows it, for the agent's developer
        HttpResponse<String> viewed = HTTP.send(HttpRequest.newBuilder(URI.create(coordinator.httpUrl() + "/api/executions/" + executionId))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
        com.fasterxml.jackson.databind.JsonNode ignored = Json.parse(viewed.body()).path("ignored_replies");
        assertThat(ignored).hasSize(1);
        assertThat(ignored.get(0).path("step_id").asText()).isEqualTo("slow");
        assertThat(ignored.get(0).path("reason").asText()).startsWith("late reply for attempt 1 of step slow: it reached the broker at ");
        assertThat(ignored.get(0).path("received_at").asText()).endsWith("Z");
        assertThat(Json.parse(viewed.body()).path("ignored_replies_more").asBoolean()).isFalse();
        // the attempt times out and the next one runs; answered in time, it completes the step
        await().atMost(Duration.ofSeconds(15)).until(() -> jdbc.queryForList("SELECT 1 FROM workflow_step_executions"
                + " WHERE execution_id = ? AND step_id = 'slow' AND status = 'running' AND attempt = 2", executionId).size() == 1);
        assertThat(reply(executionId, "slow", "{\"late\": false}").statusCode()).isEqualTo(202);
        await().atMost(Duration.ofSeconds(15)).until(() -> "completed".equals(
                jdbc.queryForObject("SELECT status FROM workflow_executions WHERE id = ?", String.class, executionId)));
        assertThat(jdbc.queryForObject("SELECT output::text FROM workflow_step_executions WHERE execution_id = ?",
                String.class, executionId)).isEqualTo("{\"late\": false}");
        assertThat(jdbc.queryForObject("SELECT error FROM step_attempts WHERE execution_id = ? AND attempt = 1",
                String.class, executionId)).isEqualTo("attempt 1 timed out after 1500 ms");
    }

    /** A heartbeat that reaches the broker after the deadline moves it no more: the attempt times out. */
    @Test
    void aHeartbeatThatReachesTheBrokerAfterItsAttemptsDeadlineExtendsNothing() throws Exception {
        String executionId = started("ATTEMPT", "slow");
        Object deadline = jdbc.queryForObject("SELECT deadline FROM workflow_step_executions WHERE execution_id = ?",
                Object.class, executionId);
        answeredAfterTheAttemptsDeadline(executionId, "{\"status\": \"running\"}");

        assertThat(jdbc.queryForObject("SELECT deadline FROM workflow_step_executions WHERE execution_id = ? AND attempt = 1",
                Object.class, executionId)).isEqualTo(deadline);
        await().atMost(Duration.ofSeconds(15)).until(() -> jdbc.queryForList("SELECT 1 FROM workflow_step_executions"
                + " WHERE execution_id = ? AND step_id = 'slow' AND attempt = 2", executionId).size() == 1);
    }

    /**
     * A heartbeat that reached the broker in time but is read late (a backlog: here the reply consumers stopped for
     * 700 ms) moves the deadline to the step's timeout from its arrival, not from when it is read: a reply the agent
     * sends after that deadline is late, however late the heartbeat was read.
     */
    @Test
    void aHeartbeatReadLateExtendsFromWhenItReachedTheBroker() throws Exception {
        // the routes stop before the execution starts: a slow stop must not eat the attempt's 1500 ms before the post
        org.apache.camel.spi.RouteController routes = coordinator.camelContext().getRouteController();
        routes.stopRoute("coordinator.attempt-timeouts");
        try {
            double extendedBefore = heartbeats("extended");
            String executionId;
            long beforePost;
            long afterPost;
            routes.stopRoute(ReplyRoutes.ROUTE_ID);
            try {
                executionId = started("ATTEMPT", "slow");
                beforePost = System.currentTimeMillis();
                HttpResponse<String> posted = HTTP.send(HttpRequest.newBuilder(URI.create(coordinator.httpUrl() + "/api/executions/"
                                + executionId + "/steps/slow/reply")).header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString("{\"status\": \"running\"}")).timeout(Duration.ofSeconds(10)).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(posted.statusCode()).isEqualTo(202);
                afterPost = System.currentTimeMillis();
                await().pollDelay(Duration.ofMillis(700)).until(() -> true);   // the backlog: the heartbeat waits in the queue
            } finally {
                routes.startRoute(ReplyRoutes.ROUTE_ID);
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> heartbeats("extended") > extendedBefore);
            assertThat(deadlineMs(executionId)).as("1500 ms from the heartbeat's arrival, not from its reading 700 ms later")
                    .isBetween(beforePost + 1500 - 50, afterPost + 1500 + 50);
        } finally {
            routes.startRoute("coordinator.attempt-timeouts");
        }
    }

    /**
     * An operator stops the reply route (Hawtio, JMX) while a reply sent in time waits in the queue: the attempt-timeout
     * sweep holds until the route runs again, and the reply then settles its attempt. Before, the sweep timed the
     * attempt out meanwhile (and its retry too), and the reply was ignored as late.
     */
    @Test
    void aReplyQueuedInTimeWhileAnOperatorStoppedTheReplyRouteSettlesItsAttemptOnceTheRouteRuns() throws Exception {
        org.apache.camel.spi.RouteController routes = coordinator.camelContext().getRouteController();
        String executionId = started("ATTEMPT", "slow");
        routes.stopRoute(ReplyRoutes.ROUTE_ID);
        try {
            HttpResponse<String> posted = HTTP.send(HttpRequest.newBuilder(URI.create(coordinator.httpUrl() + "/api/executions/"
                            + executionId + "/steps/slow/reply")).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"status\": \"ok\", \"output\": {\"in\": \"time\"}}"))
                    .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(posted.statusCode()).isEqualTo(202);
            // well past the attempt's deadline (1500 ms) and the sweep's quiet spell (2 s), the route still stopped
            await().atMost(Duration.ofSeconds(20)).until(() -> Boolean.TRUE.equals(jdbc.queryForObject("SELECT deadline < now()"
                    + " - interval '3 seconds' FROM workflow_step_executions WHERE execution_id = ?", Boolean.class, executionId)));
            assertThat(jdbc.queryForObject("SELECT status FROM workflow_step_executions WHERE execution_id = ?", String.class, executionId))
                    .isEqualTo("running");
        } finally {
            routes.startRoute(ReplyRoutes.ROUTE_ID);
        }
        await().atMost(Duration.ofSeconds(20)).until(() -> "completed".equals(jdbc.queryForObject(
                "SELECT status FROM workflow_executions WHERE id = ?", String.class, executionId)));
        assertThat(jdbc.queryForObject("SELECT attempt FROM workflow_step_executions WHERE execution_id = ?", Integer.class, executionId))
                .isEqualTo(1);
    }

    private static long deadlineMs(String executionId) {
        return jdbc.queryForObject("SELECT floor(extract(epoch FROM deadline) * 1000)::bigint FROM workflow_step_executions"
                + " WHERE execution_id = ? AND attempt = 1", Long.class, executionId);
    }

    /**
     * Posts {@code reply} to the attempt in flight once its deadline has passed, the attempt-timeout sweep stopped (as
     * when it holds back for queued replies), and waits until the reply is processed: the attempt is still running.
     */
    private static void answeredAfterTheAttemptsDeadline(String executionId, String reply) throws Exception {
        org.apache.camel.spi.RouteController routes = coordinator.camelContext().getRouteController();
        routes.stopRoute("coordinator.attempt-timeouts");
        try {
            await().atMost(Duration.ofSeconds(10)).until(() -> Boolean.TRUE.equals(jdbc.queryForObject(
                    "SELECT deadline < now() FROM workflow_step_executions WHERE execution_id = ?", Boolean.class, executionId)));
            int ignoredBefore = ignored(executionId);
            double droppedBefore = heartbeatsDropped();
            HttpResponse<String> posted = HTTP.send(HttpRequest.newBuilder(URI.create(coordinator.httpUrl() + "/api/executions/"
                            + executionId + "/steps/slow/reply")).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(reply)).timeout(Duration.ofSeconds(10)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(posted.statusCode()).isEqualTo(202);
            if (reply.contains("running")) {   // a heartbeat dropped is not recorded: its metric counts it
                await().atMost(Duration.ofSeconds(10)).until(() -> heartbeatsDropped() > droppedBefore);
            } else {
                await().atMost(Duration.ofSeconds(10)).until(() -> ignored(executionId) > ignoredBefore);
            }
            assertThat(jdbc.queryForObject("SELECT status || ' ' || attempt FROM workflow_step_executions WHERE execution_id = ?",
                    String.class, executionId)).isEqualTo("running 1");
        } finally {
            routes.startRoute("coordinator.attempt-timeouts");
        }
    }

    private static int ignored(String executionId) {
        return jdbc.queryForObject("SELECT count(*) FROM ignored_replies WHERE execution_id = ?", Integer.class, executionId);
    }

    /** Heartbeats of the workflow "attempt" that extended nothing, as the metrics count them. */
    private static double heartbeatsDropped() {
        return heartbeats("dropped");
    }

    /** Heartbeats of the workflow "attempt" with {@code outcome} (extended, dropped), as the metrics count them. */
    private static double heartbeats(String outcome) {
        return coordinator.camelContext().getRegistry().lookupByNameAndType(dev.agentcoordinator.ops.Operations.METER_REGISTRY,
                        io.micrometer.core.instrument.MeterRegistry.class)
                .find("coordinator_heartbeats").tags("workflow", "attempt", "outcome", outcome).counters().stream()
                .mapToDouble(io.micrometer.core.instrument.Counter::count).sum();
    }

    /** An execution of the workflow {@code trigger} starts, once {@code step} runs. */
    private static String started(String trigger, String step) throws Exception {
        HttpResponse<String> posted = HTTP.send(HttpRequest.newBuilder(URI.create(coordinator.httpUrl() + "/api/events"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString("{\"type\": \"" + trigger
                        + "\", \"payload\": {}}")).timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
        String eventId = Json.parse(posted.body()).path("event_id").asText();
        await().atMost(Duration.ofSeconds(20)).until(() -> !jdbc.queryForList("SELECT 1 FROM workflow_executions e JOIN"
                + " workflow_step_executions s ON s.execution_id = e.id WHERE e.trigger_event_key = ? AND s.step_id = ? AND s.status = 'running'",
                eventId, step).isEmpty());
        return jdbc.queryForObject("SELECT id FROM workflow_executions WHERE trigger_event_key = ?", String.class, eventId);
    }

    /**
     * Answers {@code step} over HTTP with {@code output} once the execution's deadline is in the past, its timeout sweep
     * stopped (as for a reply processed after a backlog); then {@code next} is not sent, and the execution times out.
     */
    private static void answeredPastTheDeadline(String executionId, String step, String output, String next) throws Exception {
        beforeTheExecutionTimesOut(executionId, () -> {
            jdbc.update("UPDATE workflow_executions SET deadline = now() - interval '1 second' WHERE id = ?", executionId);
            int sentBefore = attempts(executionId, next);
            assertThat(reply(executionId, step, output).statusCode()).isEqualTo(202);
            await().atMost(Duration.ofSeconds(10)).until(() -> !jdbc.queryForList("SELECT 1 FROM workflow_step_executions"
                    + " WHERE execution_id = ? AND step_id = ? AND status = 'completed'", executionId, step).isEmpty());
            await().during(Duration.ofMillis(700)).atMost(Duration.ofSeconds(3)).until(() -> attempts(executionId, next) == sentBefore
                    && jdbc.queryForList("SELECT 1 FROM workflow_step_executions WHERE execution_id = ? AND step_id = ?"
                            + " AND status = 'running'", executionId, next).isEmpty());
        });
    }

    @FunctionalInterface
    private interface Step {
        void run() throws Exception;
    }

    /**
     * Runs {@code whileHeld} with the execution-timeout sweep stopped (the execution is past its deadline, or put there
     * by {@code whileHeld}), then lets the sweep time the execution out.
     */
    private static void beforeTheExecutionTimesOut(String executionId, Step whileHeld) throws Exception {
        org.apache.camel.spi.RouteController routes = coordinator.camelContext().getRouteController();
        routes.stopRoute("coordinator.execution-timeouts");
        try {
            whileHeld.run();
        } finally {
            routes.startRoute("coordinator.execution-timeouts");
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> "failed".equals(
                jdbc.queryForObject("SELECT status FROM workflow_executions WHERE id = ?", String.class, executionId)));
        assertThat(jdbc.queryForObject("SELECT error FROM workflow_executions WHERE id = ?", String.class, executionId))
                .startsWith("workflow timed out after");
    }

    private static HttpResponse<String> reply(String executionId, String step, String output) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(coordinator.httpUrl() + "/api/executions/" + executionId + "/steps/" + step + "/reply"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString("{\"status\": \"ok\", \"output\": "
                        + output + "}")).timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static int attempts(String executionId, String step) {
        return jdbc.queryForObject("SELECT count(*) FROM step_attempts WHERE execution_id = ? AND step_id = ?", Integer.class,
                executionId, step);
    }

    /** Every row of the execution, as (step, iteration, status, attempt), by iteration, then step. */
    private static List<org.assertj.core.groups.Tuple> rows(String executionId) {
        return jdbc.queryForList("SELECT step_id, iteration, status, attempt FROM workflow_step_executions WHERE execution_id = ?"
                + " ORDER BY iteration, step_id", executionId).stream()
                .map(r -> tuple(r.get("step_id"), r.get("iteration"), r.get("status"), r.get("attempt"))).toList();
    }
}
