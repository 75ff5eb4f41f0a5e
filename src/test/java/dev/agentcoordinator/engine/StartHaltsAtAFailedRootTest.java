package dev.agentcoordinator.engine;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import static dev.agentcoordinator.engine.ExecutionProbe.attempts;
import static dev.agentcoordinator.engine.TestCoordinator.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * An event's start visits the new execution's roots and stops at the first that fails: the roots after it are not
 * started by a delivery that rolls back. Before, they were: each committed its attempt (its deadline running) while its
 * request went with the rollback, and one that had waited (for a connection, under a PostgreSQL restart) past its
 * deadline was never sent by the redelivery, and timed out.
 */
class StartHaltsAtAFailedRootTest {
    private static ScriptedAgents agents;

    @BeforeAll
    static void agents() throws Exception {
        agents = new ScriptedAgents(shared().connectionFactory()).echo("f-starthalt-root", r -> Map.of("done", r.action()));
    }

    @AfterAll
    static void stop() throws Exception {
        agents.close();
    }

    @Test
    void rootsAfterAFailedOneAreNotStartedByTheDeliveryThatRollsBack() throws Exception {
        String eventId;
        // the execution does not exist yet: the step ids are this test's workflow's alone
        try (RefusedTransition refused = RefusedTransition.ofStepOfAnyExecution("start_halt_a", "step", "running");
             HeldTransition held = HeldTransition.ofStepOfAnyExecution("start_halt_b", "step", "running")) {
            eventId = sendEvent("F_START_HALT", "{}");
            // either the start went on to b and b has waited longer than its timeout, or it stopped at a and the event
            // was delivered again a few times
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100))
                    .until(() -> refused.refusals() >= 3 || held.heldLongerThan(Duration.ofMillis(2500)));
        }

        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100)).until(() -> executionOf(eventId) != null
                && List.of("completed", "failed", "compensated").contains(executionStatus(executionOf(eventId))));
        String executionId = executionOf(eventId);
        for (String root : List.of("start_halt_a", "start_halt_b", "start_halt_c")) {
            assertThat(attempts(executionId, root)).as("attempts of %s", root)
                    .extracting(row -> row.get("attempt") + ":" + row.get("status")).containsExactly("1:completed");
        }
        assertThat(executionStatus(executionId)).isEqualTo("completed");
    }
}
