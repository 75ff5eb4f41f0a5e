package dev.agentcoordinator.engine;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import static dev.agentcoordinator.engine.ExecutionProbe.*;
import static dev.agentcoordinator.engine.TestCoordinator.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** A workflow's onSuccess event triggers the next workflow, which sees the first execution's id. */
class ChainingSemanticsTest {
    private static ScriptedAgents agents;

    @BeforeAll
    static void agents() throws Exception {
        agents = new ScriptedAgents(shared().connectionFactory()).echo("f-chain-agent", r -> Map.of("ran", r.action()));
    }

    @AfterAll
    static void stop() throws Exception {
        agents.close();
    }

    @Test
    void onSuccessStartsTheChainedWorkflowWithTheFirstExecutionId() {
        String first = awaitExecution(sendEvent("F_CHAIN_FIRST", "{}"), "completed");

        String[] second = new String[1];
        await().atMost(Duration.ofSeconds(20)).until(() -> {
            List<Map<String, Object>> rows = query("SELECT id, status FROM workflow_executions WHERE workflow_id = 'f_chain_second' "
                    + "AND trigger_payload->>'execution_id' = ?", first);
            second[0] = rows.isEmpty() ? null : (String) rows.get(0).get("id");
            return !rows.isEmpty() && "completed".equals(rows.get(0).get("status"));
        });
        assertThat(query("SELECT type, workflow_id, execution_id FROM agent_events WHERE event_key = ?", first + ":completed"))
                .singleElement().satisfies(r -> assertThat(r).containsEntry("type", "F_CHAIN_SECOND")
                        .containsEntry("workflow_id", "f_chain_second").containsEntry("execution_id", second[0]));
        assertThat(requests(agents, second[0], "follow")).singleElement().satisfies(r -> {
            assertThat(r.input().path("previous_execution").asText()).isEqualTo(first);
            assertThat(r.input().path("previous_status").asText()).isEqualTo("completed");
        });
    }
}
