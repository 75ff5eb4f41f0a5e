package dev.agentcoordinator.engine;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import static dev.agentcoordinator.engine.ExecutionProbe.post;
import static dev.agentcoordinator.engine.ExecutionProbe.requests;
import static dev.agentcoordinator.engine.ScriptedAgents.Reply;
import static dev.agentcoordinator.engine.TestCoordinator.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A cancel or an execution timeout that races a step's transition decides on the step as that transition
 * leaves it. The transition here is committed by hand, while the cancel waits for its row lock, which is
 * the moment a completion racing the cancel commits: after the cancel's statement began, before it read the row.
 */
class CancelRacingCompletionTest {
    private static ScriptedAgents agents;
    private static final String COMPLETE_BOOK = """
            UPDATE workflow_step_executions SET status = 'completed', output = '{"booking": "b-1"}', completed_at = now(), deadline = NULL
             WHERE execution_id = ? AND step_id = 'book' AND status = 'running'""";

    @BeforeAll
    static void agents() throws Exception {
        // book and refine are held: no reply, the test settles them itself
        agents = new ScriptedAgents(shared().connectionFactory()).agent("f-race-agent", r ->
                r.action().equals("unbook") ? List.of(Reply.ok(Map.of("unbooked", true))) : List.of());
    }

    @AfterAll
    static void stop() throws Exception {
        agents.close();
    }

    /** A step whose completion commits while the cancel waits for it is compensated. */
    @Test
    void aCompletionCommittedDuringTheCancelIsCompensated() throws Exception {
        String executionId = runningExecution();
        HttpResponse<String> cancel = cancelWhile(executionId, COMPLETE_BOOK);

        assertThat(cancel.statusCode()).isEqualTo(200);
        assertThat(Json.parse(cancel.body()).path("status").asText()).isEqualTo("compensating");
        await().atMost(Duration.ofSeconds(20)).until(() -> "compensated".equals(executionStatus(executionId)));
        assertThat(requests(agents, executionId, "book")).extracting(ScriptedAgents.Received::action).contains("unbook");
    }

    /** A loop's next iteration, started by a completion that commits while the cancel waits, is stopped with it. */
    @Test
    void aLoopIterationStartedDuringTheCancelIsStoppedWithIt() throws Exception {
        String executionId = runningExecution();
        HttpResponse<String> cancel = cancelWhile(executionId, """
                WITH done AS (
                    UPDATE workflow_step_executions SET status = 'completed', output = '{"done": false}', completed_at = now(), deadline = NULL
                     WHERE execution_id = ? AND step_id = 'refine' AND status = 'running'
                    RETURNING *)
                INSERT INTO workflow_step_executions (id, execution_id, step_id, iteration, agent, action, status, attempt,
                                                      max_attempts, timeout_ms, backoff_ms, input, started_at, deadline)
                SELECT gen_random_uuid()::text, execution_id, step_id, iteration + 1, agent, action, 'running', 1,
                       max_attempts, timeout_ms, backoff_ms, input, now(), now() + interval '1 minute'
                  FROM done""");

        assertThat(cancel.statusCode()).isEqualTo(200);
        assertThat(query("SELECT iteration, status, error FROM workflow_step_executions WHERE execution_id = ? AND step_id = 'refine' "
                + "ORDER BY iteration", executionId))
                .extracting(row -> row.get("iteration"), row -> row.get("status"), row -> row.get("error"))
                .containsExactly(org.assertj.core.groups.Tuple.tuple(0, "completed", null),
                        org.assertj.core.groups.Tuple.tuple(1, "failed", "execution cancelled by request"));
    }

    /**
     * A loop step's reply read while its step still ran, whose transition then waits for a cancel that settles the
     * step, is ignored as a reply the cancel stopped, not as a duplicate of a reply that never came.
     */
    @Test
    void aLoopReplyOvertakenByTheCancelIsIgnoredAsCancelled() throws Exception {
        String executionId = runningExecution();
        String correlationId = requests(agents, executionId, "refine").get(0).correlationId();
        try (Connection connection = shared().dataSource().getConnection()) {
            connection.setAutoCommit(false);
            int backend = backendOf(connection);
            // the reply's read does not wait for this lock; its transition does
            try (PreparedStatement lock = connection.prepareStatement(
                    "SELECT id FROM workflow_step_executions WHERE execution_id = ? AND step_id = 'refine' FOR UPDATE")) {
                lock.setString(1, executionId);
                lock.executeQuery().close();
            }
            ExecutionProbe.sendReply(correlationId, "{\"status\": \"ok\", \"output\": {\"done\": true}}");
            awaitBlockedBy(backend);
            try (PreparedStatement cancel = connection.prepareStatement("""
                    UPDATE workflow_step_executions SET status = 'failed', error = 'execution cancelled by request',
                           completed_at = now(), deadline = NULL
                     WHERE execution_id = ? AND step_id = 'refine' AND status = 'running'""")) {
                cancel.setString(1, executionId);
                assertThat(cancel.executeUpdate()).isEqualTo(1);
            }
            connection.commit();
        }

        await().atMost(Duration.ofSeconds(10)).until(() -> !query("SELECT 1 FROM ignored_replies WHERE correlation_id = ?", correlationId).isEmpty());
        assertThat(query("SELECT reason FROM ignored_replies WHERE correlation_id = ?", correlationId)).singleElement()
                .extracting(row -> row.get("reason")).asString()
                .startsWith("late or duplicate reply for attempt 1 of step refine (it reached the broker at ")
                .endsWith("), which is failed at attempt 1 (execution cancelled by request)");
        assertThat(post("/api/executions/" + executionId + "/cancel", null).statusCode()).isEqualTo(200);
    }

    /** The same race with the execution timeout's sweep: the step completed in time is compensated. */
    @Test
    void aCompletionCommittedDuringTheTimeoutIsCompensated() throws Exception {
        String eventId = sendEvent("F_TIMEOUT_RACE", "{}");
        await().atMost(Duration.ofSeconds(20)).until(() -> executionOf(eventId) != null && requests(agents, executionOf(eventId), "book").size() == 1);
        String executionId = executionOf(eventId);
        // with the completion under way, the deadline passes: the sweep finds the execution past it and waits
        // for the completion, which then commits
        commitWhileWaitedFor(executionId, COMPLETE_BOOK,
                () -> query("UPDATE workflow_executions SET deadline = now() WHERE id = ? RETURNING id", executionId));

        await().atMost(Duration.ofSeconds(20)).until(() -> "compensated".equals(executionStatus(executionId)));
        assertThat(query("SELECT error FROM workflow_executions WHERE id = ?", executionId).get(0).get("error").toString())
                .startsWith("workflow timed out");
        assertThat(requests(agents, executionId, "book")).extracting(ScriptedAgents.Received::action).contains("unbook");
    }

    /** An execution whose two steps run (their requests received, never answered). */
    private static String runningExecution() {
        String eventId = sendEvent("F_CANCEL_RACE", "{}");
        await().atMost(Duration.ofSeconds(20)).until(() -> executionOf(eventId) != null
                && requests(agents, executionOf(eventId), "book").size() == 1 && requests(agents, executionOf(eventId), "refine").size() == 1);
        return executionOf(eventId);
    }

    /**
     * Cancels the execution over HTTP while {@code transition} (its parameter: the execution) is applied in a
     * transaction, which commits once the cancel waits for one of the rows it changed.
     */
    private static HttpResponse<String> cancelWhile(String executionId, String transition) throws Exception {
        return commitWhileWaitedFor(executionId, transition, () -> post("/api/executions/" + executionId + "/cancel", null));
    }

    /**
     * Applies {@code transition} (its parameter: the execution) in a transaction, starts {@code stop}, and
     * commits once some statement waits for one of the rows the transition changed; returns what {@code stop} returned.
     */
    private static <T> T commitWhileWaitedFor(String executionId, String transition, java.util.function.Supplier<T> stop) throws Exception {
        try (Connection connection = shared().dataSource().getConnection()) {
            connection.setAutoCommit(false);
            int backend = backendOf(connection);
            try (PreparedStatement statement = connection.prepareStatement(transition)) {
                statement.setString(1, executionId);
                assertThat(statement.executeUpdate()).isPositive();
            }
            CompletableFuture<T> stopping = CompletableFuture.supplyAsync(stop);
            awaitBlockedBy(backend);
            connection.commit();
            return stopping.get();
        }
    }

    private static int backendOf(Connection connection) throws java.sql.SQLException {
        try (PreparedStatement statement = connection.prepareStatement("SELECT pg_backend_pid()"); ResultSet rs = statement.executeQuery()) {
            rs.next();
            return rs.getInt(1);
        }
    }

    /** Until some statement waits for a row lock {@code backend}'s transaction holds. */
    private static void awaitBlockedBy(int backend) {
        await().atMost(Duration.ofSeconds(10)).until(() -> !query(
                "SELECT pid FROM pg_stat_activity WHERE ? = ANY (pg_blocking_pids(pid))", backend).isEmpty());
    }
}
