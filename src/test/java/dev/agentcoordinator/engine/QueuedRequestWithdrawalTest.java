package dev.agentcoordinator.engine;

import dev.agentcoordinator.infra.BrokerManagement;
import org.apache.activemq.artemis.api.core.management.ResourceNames;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import static dev.agentcoordinator.engine.ExecutionProbe.get;
import static dev.agentcoordinator.engine.ExecutionProbe.post;
import static dev.agentcoordinator.engine.ScriptedAgents.Reply;
import static dev.agentcoordinator.engine.TestCoordinator.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The requests of a cancelled or timed-out execution that no agent has taken yet are withdrawn from
 * the agent's queue, so that an agent with a backlog (and one that sends no heartbeats, which could
 * not be told to stop) does not work on them; other executions' requests stay.
 */
class QueuedRequestWithdrawalTest {
    private static final String QUEUE = "agent.f-unheard-agent";
    private static final String TIMEOUT_QUEUE = "agent.f-unheard-timeout-agent";
    private static final String UNHEARD_COMPENSATION_QUEUE = "agent.f-unheard-refund-agent";
    private static ScriptedAgents agents;

    @BeforeAll
    static void agents() throws Exception {
        agents = new ScriptedAgents(shared().connectionFactory())
                .agent("f-timeout-first-agent", r -> List.of(Reply.ok(Map.of("done", true)).after(1000)))
                .agent("f-comp-charge-agent", r -> List.of(Reply.ok(Map.of("charged", 10))))
                .agent("f-comp-ship-agent", r -> List.of(Reply.error("warehouse closed", false)));
    }

    @AfterAll
    static void stop() throws Exception {
        agents.close();
    }

    @Test
    void cancellingAnExecutionWithdrawsItsRequestsStillOnTheAgentsQueue() throws Exception {
        String cancelled = startedWithTwoRequestsQueued("a");
        String kept = startedWithTwoRequestsQueued("b");

        assertThat(post("/api/executions/" + cancelled + "/cancel", null).statusCode()).isEqualTo(200);

        await().atMost(Duration.ofSeconds(10)).until(() -> queuedCorrelationIds().size() == 2);
        assertThat(queuedCorrelationIds()).allMatch(id -> requestOf(kept, id));
        assertThat(stepStatuses(cancelled)).containsExactlyInAnyOrderEntriesOf(
                Map.of("first", "failed", "second", "failed", "after", "skipped"));
        assertThat(executionStatus(kept)).isEqualTo("running");

        assertThat(post("/api/executions/" + kept + "/cancel", null).statusCode()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(10)).until(() -> queuedCorrelationIds().isEmpty());
        await().atMost(Duration.ofSeconds(5)).until(() -> get("/observe/metrics").body()
                .contains("coordinator_requests_withdrawn_total{queue=\"" + QUEUE + "\"} 4.0"));
    }

    @Test
    void requestsOfAttemptsAndExecutionsThatTimedOutAreWithdrawn() throws Exception {
        String eventId = sendEvent("F_TIMEOUT_QUEUED", "{}");
        await().atMost(Duration.ofSeconds(20)).until(() -> executionOf(eventId) != null);
        String executionId = executionOf(eventId);

        await().atMost(Duration.ofSeconds(20)).until(() -> "failed".equals(executionStatus(executionId)));
        await().atMost(Duration.ofSeconds(10)).until(() -> queuedCorrelationIds(TIMEOUT_QUEUE).isEmpty());
        assertThat(stepStatuses(executionId)).containsExactlyInAnyOrderEntriesOf(
                Map.of("attempt", "failed", "slow_first", "completed", "late", "failed"));
        assertThat(stepRow(executionId, "attempt").get("error")).isEqualTo("attempt 1 timed out after 1000 ms");
        assertThat(String.valueOf(stepRow(executionId, "late").get("error"))).startsWith("workflow timed out");
        // both requests reached the queue, which nobody reads, and left it: withdrawn
        assertThat(messagesAdded(TIMEOUT_QUEUE)).isEqualTo(2);
    }

    /**
     * A compensation's request waits on its own agent's queue: one left there after its attempt timed out was done by
     * an agent that came later, beside the retry sent in its place (an undo done twice).
     */
    @Test
    void requestsOfCompensationAttemptsThatTimedOutAreWithdrawn() throws Exception {
        String eventId = sendEvent("F_COMPENSATION_UNHEARD", "{}");
        await().atMost(Duration.ofSeconds(20)).until(() -> executionOf(eventId) != null);
        String executionId = executionOf(eventId);

        await().atMost(Duration.ofSeconds(20)).until(() -> "compensation_failed".equals(executionStatus(executionId)));
        await().atMost(Duration.ofSeconds(10)).until(() -> queuedCorrelationIds(UNHEARD_COMPENSATION_QUEUE).isEmpty());
        assertThat(query("SELECT attempt, error FROM workflow_step_executions WHERE execution_id = ? AND kind = 'compensation'", executionId))
                .singleElement().satisfies(row -> {
                    assertThat(row).containsEntry("attempt", 2);
                    assertThat(row).containsEntry("error", "attempt 2 timed out after 1000 ms");
                });
        // both attempts' requests reached the queue, which nobody reads, and left it: withdrawn
        assertThat(messagesAdded(UNHEARD_COMPENSATION_QUEUE)).isEqualTo(2);
    }

    private static String startedWithTwoRequestsQueued(String name) {
        String eventId = sendEvent("F_CANCEL_QUEUED", "{\"name\":\"" + name + "\"}");
        await().atMost(Duration.ofSeconds(20)).until(() -> executionOf(eventId) != null
                && stepStatuses(executionOf(eventId)).values().stream().filter("running"::equals).count() == 2);
        String executionId = executionOf(eventId);
        await().atMost(Duration.ofSeconds(10)).until(() -> queuedCorrelationIds().stream()
                .filter(id -> requestOf(executionId, id)).count() == 2);
        return executionId;
    }

    /** Whether a request's correlation id ({@code <row>:<attempt>@…}) names a step row of the execution. */
    private static boolean requestOf(String executionId, String correlationId) {
        return !query("SELECT 1 FROM workflow_step_executions WHERE execution_id = ? AND id::text = ?",
                executionId, correlationId.substring(0, correlationId.indexOf(':'))).isEmpty();
    }

    private static long messagesAdded(String queue) throws Exception {
        try (BrokerManagement management = BrokerManagement.open(shared().connectionFactory(), 5_000)) {
            return ((Number) management.attribute(ResourceNames.QUEUE + queue, "messagesAdded").orElseThrow().result()).longValue();
        }
    }

    private static List<String> queuedCorrelationIds() throws Exception {
        return queuedCorrelationIds(QUEUE);
    }

    private static List<String> queuedCorrelationIds(String queue) throws Exception {
        return ExecutionProbe.queuedCorrelationIds(queue);
    }
}
