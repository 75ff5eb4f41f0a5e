package dev.agentcoordinator.engine;

import dev.agentcoordinator.agent.AgentReply;
import dev.agentcoordinator.agent.AgentRequest;
import dev.agentcoordinator.agent.AgentService;
import jakarta.jms.ConnectionFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import static dev.agentcoordinator.engine.TestCoordinator.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** config.include_context: a signal and shared memory of one step reach a later step through its request, read with the SDK. */
class RequestContextTest {
    private static AgentService sentinel;
    private static AgentService architect;
    private static final Map<String, AgentRequest> planRequests = new ConcurrentHashMap<>();

    @BeforeAll
    static void agents() {
        ConnectionFactory cf = AgentService.artemisConnectionFactory(shared().brokerUrl());
        sentinel = AgentService.builder(cf, "g-ctx-sentinel")
                .handle("spot", request -> AgentReply.ok(Map.of("gap", "system_design"))
                        .withSignal("SKILL_GAP_CRITICAL", Map.of("skill", "system_design", "urgency", "high"))
                        .withSharedMemory("focus", "system_design"))
                .start();
        architect = AgentService.builder(cf, "g-ctx-architect")
                .handle("plan", request -> {
                    planRequests.put(request.executionId(), request);
                    return AgentReply.ok(Map.of("planned", true));
                })
                .start();
    }

    @AfterAll
    static void stop() {
        sentinel.close();
        architect.close();
    }

    @Test
    void signalsSharedMemoryAndOutputsOfEarlierStepsArriveInTheRequestContext() {
        String eventId = sendEvent("G_CONTEXT", "{}");
        await().atMost(Duration.ofSeconds(20)).until(() -> "completed".equals(executionStatus(executionOf(eventId))));
        AgentRequest plan = planRequests.get(executionOf(eventId));

        assertThat(plan.signals("SKILL_GAP_CRITICAL")).containsExactly(Map.of("from_agent", "g-ctx-sentinel",
                "signal_type", "SKILL_GAP_CRITICAL", "data", Map.of("skill", "system_design", "urgency", "high")));
        assertThat(plan.sharedMemory()).containsEntry("focus", "system_design");
        assertThat(plan.context().get("step_outputs")).isEqualTo(Map.of("spot_gap", Map.of("gap", "system_design")));
        assertThat(query("SELECT request_context IS NOT NULL AS kept FROM workflow_step_executions WHERE execution_id = ? AND step_id = 'plan'",
                executionOf(eventId)).get(0).get("kept")).isEqualTo(true);
    }

    @Test
    void aStepWithoutTheFlagGetsNoContext() {
        String eventId = sendEvent("G_CONTEXT", "{}");
        await().atMost(Duration.ofSeconds(20)).until(() -> "completed".equals(executionStatus(executionOf(eventId))));
        assertThat(query("SELECT request_context FROM workflow_step_executions WHERE execution_id = ? AND step_id = 'spot_gap'",
                executionOf(eventId)).get(0).get("request_context")).isNull();
    }
}
