package dev.agentcoordinator.engine;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import static dev.agentcoordinator.engine.ExecutionProbe.requests;
import static dev.agentcoordinator.engine.ExecutionProbe.sendReply;
import static dev.agentcoordinator.engine.ScriptedAgents.Reply;
import static dev.agentcoordinator.engine.TestCoordinator.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** Spec pattern 2: fetch → trends | salaries | skills (in parallel) → report. */
class FanOutFanInTest {
    private static ScriptedAgents agents;
    private static final java.util.Set<String> FIRST_FAILED = java.util.concurrent.ConcurrentHashMap.newKeySet();

    @BeforeAll
    static void agents() throws Exception {
        agents = new ScriptedAgents(shared().connectionFactory())
                .echo("fan-fetch", r -> Map.of("data", "market-data", "report", r.input()))
                // the branches are answered by the test, once all three have their requests
                .agent("fan-slow", r -> List.of())
                // "first" fails the first time each execution runs it, and succeeds when the execution is retried
                .agent("f-stale-agent", r -> r.action().equals("first") && FIRST_FAILED.add(r.request().path("execution_id").asText())
                        ? List.of(Reply.error("not yet", false))
                        : List.of(Reply.ok(Map.of("detour", false))));
    }

    @AfterAll
    static void stop() throws Exception {
        agents.close();
    }

    @Test
    void branchesRunInParallelAndTheJoinWaitsForAllThree() throws Exception {
        String eventId = sendEvent("T_FANOUT", "{\"region\":\"eu\"}");
        await().atMost(Duration.ofSeconds(20)).until(() -> executionOf(eventId) != null
                && branchRequests(executionOf(eventId)).size() == 3);
        String executionId = executionOf(eventId);
        // all three branches hold their requests while none has answered: they run side by side
        assertThat(stepStatuses(executionId)).containsEntry("trends", "running").containsEntry("salaries", "running")
                .containsEntry("skills", "running").containsEntry("report", "pending");

        List<ScriptedAgents.Received> branches = branchRequests(executionId);
        for (int i = 0; i < branches.size(); i++) {
            ScriptedAgents.Received branch = branches.get(i);
            sendReply(branch.correlationId(), Json.write(Map.of("status", "ok",
                    "output", Map.of("value", branch.action() + ":" + branch.input().path("data").asText()))));
            if (i < branches.size() - 1) {
                // the join waits for every branch
                String settled = branch.stepId();
                await().atMost(Duration.ofSeconds(20)).until(() -> "completed".equals(stepStatuses(executionId).get(settled)));
                assertThat(requests(agents, executionId, "report")).isEmpty();
            }
        }
        await().atMost(Duration.ofSeconds(20)).until(() -> "completed".equals(executionStatus(executionId)));

        List<ScriptedAgents.Received> mine = agents.received().stream()
                .filter(r -> r.request().path("execution_id").asText().equals(executionId)).toList();
        assertThat(mine).filteredOn(r -> r.stepId().equals("report")).hasSize(1)
                .first().satisfies(r -> assertThat(r.input().toString())
                        .contains("\"trends\":\"trends:market-data\"", "\"salaries\":\"salaries:market-data\"", "\"skills\":\"skills:market-data\""));
        assertThat(stepStatuses(executionId)).containsOnlyKeys("fetch", "trends", "salaries", "skills", "report")
                .allSatisfy((step, status) -> assertThat(status).isEqualTo("completed"));
        // the partial join was kept in PostgreSQL and removed once complete: by the arrival that
        // completed it, or, when two branches settle at the same moment and an earlier arrival's
        // insert commits after that removal, by the stale-join sweep (every 5 s)
        await().atMost(Duration.ofSeconds(10))
                .until(() -> query("SELECT id FROM step_joins WHERE id LIKE ?", executionId + "%").isEmpty());
        await().atMost(Duration.ofSeconds(10)).until(() -> query("SELECT id FROM step_joins_completed").isEmpty());
    }

    /**
     * One completion reaches a fan-in twice: through its skipped sibling, which runs the joined step, then
     * directly, with the context it read before the sibling was skipped. On an execution this instance does
     * not hold in memory (retried here; also one another instance started, or one from before a restart),
     * that stale context sent the second arrival through the aggregator, which found the join complete
     * and the joined step running, started by this very message, and sent its request again.
     */
    @Test
    void aFanInReachedTwiceByOneCompletionSendsTheJoinedStepOnce() {
        String executionId = ExecutionProbe.awaitExecution(sendEvent("F_JOIN_STALE", "{}"), "failed");
        assertThat(ExecutionProbe.post("/api/executions/" + executionId + "/retry", null).statusCode()).isEqualTo(202);
        await().atMost(Duration.ofSeconds(20)).until(() -> "completed".equals(executionStatus(executionId)));

        assertThat(stepStatuses(executionId)).containsExactlyInAnyOrderEntriesOf(
                Map.of("first", "completed", "detour", "skipped", "join", "completed"));
        assertThat(ExecutionProbe.requests(agents, executionId, "join")).hasSize(1);
    }

    private static List<ScriptedAgents.Received> branchRequests(String executionId) {
        return agents.received().stream()
                .filter(r -> r.request().path("execution_id").asText().equals(executionId) && r.agent().equals("fan-slow")).toList();
    }
}
