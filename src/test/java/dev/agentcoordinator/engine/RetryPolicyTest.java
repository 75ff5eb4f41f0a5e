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

/** config.retry_backoff_max_ms bounds a retry's delay and config.retry_jitter spreads it (V48), for steps and compensations. */
class RetryPolicyTest {
    private static ScriptedAgents agents;

    @BeforeAll
    static void agents() throws Exception {
        agents = new ScriptedAgents(shared().connectionFactory()).agent("policy-agent", r -> switch (r.action()) {
            case "flaky" -> r.input().path("always_fail").asBoolean() || r.request().path("attempt").asInt() < 7
                    ? List.of(Reply.error("flaky", true)) : List.of(Reply.ok(Map.of("done", true)));
            case "unbook" -> r.request().path("attempt").asInt() < 2
                    ? List.of(Reply.error("busy", true)) : List.of(Reply.ok(Map.of("undone", true)));
            default -> List.of(Reply.ok(Map.of("booked", true)));
        });
    }

    @AfterAll
    static void stop() throws Exception {
        agents.close();
    }

    @Test
    void retriesWaitNoLongerThanTheirLimit() {
        String eventId = sendEvent("T_RETRY_POLICY", "{}");
        await().atMost(Duration.ofSeconds(30)).until(() -> "completed".equals(executionStatus(executionOf(eventId))));
        String executionId = executionOf(eventId);
        List<Map<String, Object>> gaps = query("SELECT EXTRACT(EPOCH FROM a.started_at - lag(a.completed_at) OVER (ORDER BY a.attempt)) * 1000 AS gap_ms"
                + " FROM step_attempts a WHERE a.execution_id = ? AND a.step_id = 'flaky' ORDER BY a.attempt", executionId);
        assertThat(gaps).hasSize(7);
        // the last two waited 500 ms (and the retry sweep's delay: seconds on a loaded machine), where doubling would
        // wait 6.4 and 12.8 s
        assertThat(gaps.subList(5, 7)).allSatisfy(gap -> assertThat(((Number) gap.get("gap_ms")).doubleValue()).isBetween(490.0, 4000.0));
    }

    @Test
    void aCompensationRetriesByItsOwnPolicy() {
        String eventId = sendEvent("T_RETRY_POLICY", "{\"always_fail\": true}");
        await().atMost(Duration.ofSeconds(20)).until(() -> "compensated".equals(executionStatus(executionOf(eventId))));
        assertThat(query("SELECT backoff_ms, backoff_max_ms, backoff_jitter, attempt FROM workflow_step_executions"
                + " WHERE execution_id = ? AND kind = 'compensation'", executionOf(eventId))).singleElement()
                .satisfies(row -> assertThat(row).containsEntry("backoff_ms", 100L).containsEntry("backoff_max_ms", 150L)
                        .containsEntry("backoff_jitter", true).containsEntry("attempt", 2));
        assertThat(query("SELECT backoff_max_ms, backoff_jitter FROM workflow_step_executions WHERE execution_id = ? AND step_id = 'flaky'",
                executionOf(eventId))).singleElement().satisfies(row -> assertThat(row).containsEntry("backoff_max_ms", 500L)
                        .containsEntry("backoff_jitter", false));
    }

    @Test
    void aDelayIsItsDoublingUpToTheLimitAndJitterDrawsItBetweenHalfOfItAndAllOfIt() {
        assertThat(query("SELECT EXTRACT(EPOCH FROM retry_delay(3000, 2, 200, false)) * 1000 AS ms").get(0).get("ms").toString())
                .startsWith("200");
        assertThat(query("SELECT EXTRACT(EPOCH FROM retry_delay(100, 3, NULL, false)) * 1000 AS ms").get(0).get("ms").toString())
                .startsWith("800");
        Map<String, Object> drawn = query("SELECT min(ms) AS least, max(ms) AS most, count(DISTINCT ms) AS distinct_delays FROM"
                + " (SELECT EXTRACT(EPOCH FROM retry_delay(3000, 2, 200, true)) * 1000 AS ms FROM generate_series(1, 500)) d").get(0);
        assertThat(((Number) drawn.get("least")).doubleValue()).isGreaterThanOrEqualTo(100.0);
        assertThat(((Number) drawn.get("most")).doubleValue()).isLessThanOrEqualTo(200.0);
        assertThat(((Number) drawn.get("distinct_delays")).intValue()).isGreaterThan(100);
    }
}
