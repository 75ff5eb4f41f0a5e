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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

import static dev.agentcoordinator.engine.ExecutionProbe.awaitExecution;
import static dev.agentcoordinator.engine.ExecutionProbe.post;
import static dev.agentcoordinator.engine.ScriptedAgents.Reply;
import static dev.agentcoordinator.engine.TestCoordinator.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A retry of a failed execution that the retention sweep deletes while the retry runs (the retry read the execution,
 * then its reset waited for the row the retention's DELETE held): the answer is the one for an unknown execution (404),
 * as a retry that came a moment later gets, not a 409 that says the execution "has no failed or skipped step to run
 * again (it failed as its last step completed)" of an execution that no longer exists.
 */
class RetryOfADeletedExecutionTest {
    private static ScriptedAgents agents;
    /** Not the common pool: on 2 cores it has a single thread. */
    private static final ExecutorService THREADS = Executors.newCachedThreadPool();

    @BeforeAll
    static void agents() throws Exception {
        agents = new ScriptedAgents(shared().connectionFactory()).agent("f-retry-deleted", r ->
                List.of(Reply.error("fails", false)));
    }

    @AfterAll
    static void stop() throws Exception {
        agents.close();
        THREADS.shutdownNow();
    }

    @Test
    void aRetryOfAnExecutionDeletedMeanwhileAnswersNotFound() throws Exception {
        String executionId = awaitExecution(sendEvent("F_RETRY_DELETED", "{}"), "failed");
        await().atMost(Duration.ofSeconds(10)).until(() -> query("SELECT 1 FROM outcome_outbox WHERE execution_id = ?", executionId).isEmpty());

        HttpResponse<String> retry;
        try (Connection connection = shared().dataSource().getConnection()) {
            connection.setAutoCommit(false);
            int backend = backendOf(connection);
            // the retention sweep's DELETE (delete-expired-executions.sql), not yet committed
            try (PreparedStatement delete = connection.prepareStatement("DELETE FROM workflow_executions WHERE id = ?")) {
                delete.setString(1, executionId);
                assertThat(delete.executeUpdate()).isEqualTo(1);
            }
            CompletableFuture<HttpResponse<String>> retrying =
                    CompletableFuture.supplyAsync(() -> post("/api/executions/" + executionId + "/retry", null), THREADS);
            await().atMost(Duration.ofSeconds(8)).until(() -> !query(
                    "SELECT pid FROM pg_stat_activity WHERE ? = ANY (pg_blocking_pids(pid))", backend).isEmpty());
            connection.commit();
            retry = retrying.get();
        }
        assertThat(query("SELECT 1 FROM workflow_executions WHERE id = ?", executionId)).isEmpty();
        HttpResponse<String> later = post("/api/executions/" + executionId + "/retry", null);
        assertThat(later.statusCode()).isEqualTo(404);
        assertThat(retry.statusCode()).as(retry.body()).isEqualTo(404);
    }

    private static int backendOf(Connection connection) throws java.sql.SQLException {
        try (PreparedStatement statement = connection.prepareStatement("SELECT pg_backend_pid()"); ResultSet rs = statement.executeQuery()) {
            rs.next();
            return rs.getInt(1);
        }
    }
}
