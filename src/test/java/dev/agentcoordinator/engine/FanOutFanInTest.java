package dev.agentcoordinator.engine;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import static dev.agentcoordinator.engine.ScriptedAgents.Reply;
import static dev.agentcoordinator.engine.TestCoordinator.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** Spec pattern 2: fetch → trends | salaries | skills (in parallel) → report. */
class FanOutFanInTest {
    private static final long SLOW_MS = 600;
    private static ScriptedAgents agents;
    private static final java.util.Set<String> FIRST_FAILED = java.util.concurrent.ConcurrentHashMap.newKeySet();

    @BeforeAll
    static void agents() throws Exception {
        agents = new ScriptedAgents(shared().connectionFactory())
                .echo("fan-fetch", r -> Map.of("data", "market-data", "report", r.input()))
                .agent("fan-slow", r -> List.of(Reply.ok(Map.of("value", r.action() + ":" + r.input().path("data").asText())).after(SLOW_MS)))
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
    void branchesRunInParallelAndTheJoinWaitsForAllThree() {
        String eventId = sendEvent("T_FANOUT", "{\"region\":\"eu\"}");
        await().atMost(Duration.ofSeconds(20)).until(() -> "completed".equals(executionStatus(executionOf(eventId))));
        String executionId = executionOf(eventId);

        List<ScriptedAgents.Received> mine = agents.received().stream()
                .filter(r -> r.request().path("execution_id").asText().equals(executionId)).toList();
        long branchStart = mine.stream().filter(r -> r.agent().equals("fan-slow")).mapToLong(ScriptedAgents.Received::receivedAtNanos).min().orElseThrow();
        long lastBranchStart = mine.stream().filter(r -> r.agent().equals("fan-slow")).mapToLong(ScriptedAgents.Received::receivedAtNanos).max().orElseThrow();
        long reportStart = mine.stream().filter(r -> r.stepId().equals("report")).mapToLong(ScriptedAgents.Received::receivedAtNanos).findFirst().orElseThrow();
        long branchesWallMs = (reportStart - branchStart) / 1_000_000;

        // all three were dispatched before the first could have finished: they ran side by side
        assertThat((lastBranchStart - branchStart) / 1_000_000).isLessThan(SLOW_MS);
        // the join took about one slow agent, far less than the three one after another
        assertThat(branchesWallMs).isGreaterThanOrEqualTo(SLOW_MS).isLessThan(2 * SLOW_MS);
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
}
