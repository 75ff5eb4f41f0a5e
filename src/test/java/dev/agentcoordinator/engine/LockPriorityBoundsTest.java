package dev.agentcoordinator.engine;

import dev.agentcoordinator.CoordinatorApp;
import dev.agentcoordinator.RunningCoordinator;
import dev.agentcoordinator.locks.AcquireResult;
import dev.agentcoordinator.locks.LockHolder;
import dev.agentcoordinator.locks.LockRequest;
import dev.agentcoordinator.locks.ResourceLockStore;
import org.apache.camel.ProducerTemplate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.jdbc.core.JdbcTemplate;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static dev.agentcoordinator.engine.ScriptedAgents.Reply;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A waiter of the highest priority there is (Integer.MAX_VALUE) gets a freed lock: a lock sweep's try yields to a waiter
 * of a higher priority than its own, one more than its own, which overflowed to the lowest int, so that it yielded to
 * every lower waiter, each of which yielded to it, and both failed at their timeout (the verifier's test).
 */
class LockPriorityBoundsTest {
    private static String workflow(String id, String agent) {
        return "id: " + id + "\nname: " + id + "\ntrigger: " + id.toUpperCase() + "\nconfig: { timeout_ms: 60000, max_retries: 0 }\nsteps:\n"
                + "  - id: change\n    agent: " + agent + "\n    action: change\n    config: { timeout_ms: 6000 }\n"
                + "    locks:\n      - { resource_type: roadmap, resource_id: { from_trigger: user_id } }\n";
    }

    @TempDir
    Path folder;

    @Test
    void aWaiterOfTheHighestIntPriorityGetsAFreedLock() throws Exception {
        Path workflows = Files.createDirectory(folder.resolve("workflows"));
        Files.writeString(workflows.resolve("top.yaml"), workflow("v_top", "v-top"));
        Files.writeString(workflows.resolve("low.yaml"), workflow("v_low", "v-low"));
        try (RunningCoordinator coordinator = CoordinatorApp.start(TestCoordinator.settings(Files.createDirectory(folder.resolve("data")),
                workflows).with(Map.of("coordinator.locks.priorities", "v-top:" + Integer.MAX_VALUE + ",v-low:1")));
             ScriptedAgents agents = new ScriptedAgents(coordinator.connectionFactory())
                     .agent("v-top", r -> List.of(Reply.ok(Map.of())))
                     .agent("v-low", r -> List.of(Reply.ok(Map.of())))) {
            JdbcTemplate jdbc = new JdbcTemplate(coordinator.dataSource());
            ResourceLockStore locks = new ResourceLockStore(coordinator.dataSource());
            String user = "mx-" + UUID.randomUUID().toString().substring(0, 8);
            AcquireResult.Acquired held = (AcquireResult.Acquired) locks.acquire(new LockHolder("someone", Integer.MAX_VALUE, "holding-execution", "x"),
                    new LockRequest("roadmap", user, 60_000));
            ProducerTemplate producer = coordinator.camelContext().createProducerTemplate();
            producer.sendBody("jms:queue:agent.events", "{\"type\":\"V_TOP\",\"event_id\":\"" + UUID.randomUUID() + "\",\"payload\":{\"user_id\":\"" + user + "\"}}");
            producer.sendBody("jms:queue:agent.events", "{\"type\":\"V_LOW\",\"event_id\":\"" + UUID.randomUUID() + "\",\"payload\":{\"user_id\":\"" + user + "\"}}");
            await().atMost(Duration.ofSeconds(20)).until(() -> jdbc.queryForList("SELECT 1 FROM workflow_step_executions s JOIN workflow_executions e"
                    + " ON e.id = s.execution_id WHERE e.trigger_payload->>'user_id' = ? AND s.waiting_for IS NOT NULL", user).size() == 2);
            assertThat(locks.release(held.lockId())).isTrue();
            await().atMost(Duration.ofSeconds(20)).until(() -> jdbc.queryForList("SELECT 1 FROM workflow_executions e"
                    + " WHERE e.trigger_payload->>'user_id' = ? AND e.status IN ('completed', 'failed')", user).size() == 2);
            assertThat(jdbc.queryForList("SELECT e.workflow_id, e.status, s.error FROM workflow_executions e JOIN workflow_step_executions s"
                    + " ON s.execution_id = e.id WHERE e.trigger_payload->>'user_id' = ? ORDER BY e.workflow_id", user))
                    .allSatisfy(row -> assertThat(row.get("status")).as("%s", row).isEqualTo("completed"));
            producer.stop();
        }
    }
}
