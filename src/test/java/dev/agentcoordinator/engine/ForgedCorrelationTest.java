package dev.agentcoordinator.engine;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import static dev.agentcoordinator.engine.ExecutionProbe.requests;
import static dev.agentcoordinator.engine.ScriptedAgents.Reply;
import static dev.agentcoordinator.engine.TestCoordinator.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A reply's correlation id ({@code <row>:<attempt>@<workflow>~v<n>/<step>/<max attempts>}) is the agent's to write: the
 * part after '@' names a step, and an agent that named another step of its execution (one it knew from the workflow)
 * completed that step with its own output and started that step's dependents: an approval passed by an agent that
 * was not its approver. The reply settles the row it names by id, as that row's step.
 */
class ForgedCorrelationTest {
    private static ScriptedAgents agents;

    @BeforeAll
    static void agents() throws Exception {
        agents = new ScriptedAgents(shared().connectionFactory())
                .agent("f-forge-agent", r -> "s1".equals(r.action())
                        ? List.of(new Reply(0, Json.write(Map.of("status", "ok", "output", Map.of("approver", "the s1 agent"))),
                                r.correlationId().replace("/s1/", "/approve/")))
                        : List.of(Reply.ok(Map.of("paid", true))));
    }

    @AfterAll
    static void stop() throws Exception {
        agents.close();
    }

    @Test
    void aReplyNamingAnotherStepSettlesOnlyTheStepItsRowIs() {
        String eventId = sendEvent("F_FORGED_REPLY", "{}");
        await().atMost(Duration.ofSeconds(20)).until(() -> executionOf(eventId) != null
                && "completed".equals(stepStatuses(executionOf(eventId)).get("s1")));
        String executionId = executionOf(eventId);
        assertThat(requests(agents, executionId, "s1")).singleElement()
                .satisfies(r -> assertThat(r.correlationId()).contains("/s1/"));

        // s1 completed with what its agent sent; approve still waits for its approver, and pay has not started
        assertThat(stepStatuses(executionId)).containsExactlyInAnyOrderEntriesOf(
                Map.of("s1", "completed", "approve", "running", "pay", "pending"));
        assertThat(stepRow(executionId, "s1").get("output").toString()).contains("the s1 agent");
        assertThat(requests(agents, executionId, "pay")).isEmpty();
    }
}
