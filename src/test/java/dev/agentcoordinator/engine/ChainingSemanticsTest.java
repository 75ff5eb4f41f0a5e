package dev.agentcoordinator.engine;

import jakarta.jms.Connection;
import jakarta.jms.Message;
import jakarta.jms.QueueBrowser;
import jakarta.jms.Session;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static dev.agentcoordinator.engine.ExecutionProbe.*;
import static dev.agentcoordinator.engine.TestCoordinator.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** A workflow's onSuccess event triggers the next workflow, which sees the first execution's id. */
class ChainingSemanticsTest {
    private static ScriptedAgents agents;

    @BeforeAll
    static void agents() throws Exception {
        agents = new ScriptedAgents(shared().connectionFactory()).echo("f-chain-agent", r -> Map.of("ran", r.action()))
                .agent("f-chain-loop-agent", r -> List.of("check".equals(r.action())
                        ? ScriptedAgents.Reply.error("the check always fails", false) : ScriptedAgents.Reply.ok(Map.of())));
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

    /**
     * A chain that leads back through both outcomes (the try's onSuccess starts the check, the check's
     * onFailure starts another try) passes the load-time check; it stops once its executions are
     * coordinator.chain.max-depth (16) outcome events deep, the next event going to the DLQ with why.
     */
    @Test
    void aChainThatLeadsBackToItselfStopsAtTheMaximumDepth() throws Exception {
        String first = awaitExecution(sendEvent("F_CHAIN_LOOP_TRY", "{\"run\": \"" + UUID.randomUUID() + "\"}"), "completed");
        String chain = "WITH RECURSIVE chain AS (SELECT id, workflow_id, status, chain_depth FROM workflow_executions WHERE id = ? "
                + "UNION ALL SELECT e.id, e.workflow_id, e.status, e.chain_depth FROM workflow_executions e JOIN chain c "
                + "ON e.trigger_payload->>'execution_id' = c.id) SELECT * FROM chain ORDER BY chain_depth";

        // the deepest execution: a try 16 deep, whose onSuccess event would start a check 17 deep
        String[] last = new String[1];
        await().atMost(Duration.ofSeconds(60)).until(() -> {
            List<Map<String, Object>> rows = query(chain, first);
            Map<String, Object> deepest = rows.get(rows.size() - 1);
            last[0] = (String) deepest.get("id");
            return ((Number) deepest.get("chain_depth")).intValue() == 16 && "completed".equals(deepest.get("status"));
        });
        Message deadLetter = awaitDeadLetter(last[0] + ":completed");
        assertThat(deadLetter.getStringProperty(EventRoutes.DEAD_LETTER_REASON)).isEqualTo("event is the outcome event of execution "
                + last[0] + ", itself started by a chain of 16 outcome events: it would start f_chain_loop_check 17 deep, past "
                + "coordinator.chain.max-depth (16); a chain of workflows that leads back to itself through onSuccess and onFailure"
                + " stops here (README, \"Outcome events\")");

        List<Map<String, Object>> rows = query(chain, first);
        assertThat(rows).hasSize(17);
        for (int depth = 0; depth <= 16; depth++) {
            assertThat(rows.get(depth)).containsEntry("chain_depth", depth)
                    .containsEntry("workflow_id", depth % 2 == 0 ? "f_chain_loop_try" : "f_chain_loop_check")
                    .containsEntry("status", depth % 2 == 0 ? "completed" : "failed");
        }
        assertThat(query("SELECT 1 FROM agent_events WHERE event_key = ?", last[0] + ":completed")).isEmpty();
    }

    /** Browses agent.events.DLQ until it holds the dead letter of the event with this event_id. */
    private static Message awaitDeadLetter(String eventId) {
        Message[] found = new Message[1];
        await().atMost(Duration.ofSeconds(20)).until(() -> {
            try (Connection connection = shared().connectionFactory().createConnection()) {
                connection.start();
                Session session = connection.createSession(false, Session.AUTO_ACKNOWLEDGE);
                try (QueueBrowser browser = session.createBrowser(session.createQueue(Endpoints.DEAD_LETTER_QUEUE))) {
                    for (Object candidate : Collections.list(browser.getEnumeration())) {
                        Message message = (Message) candidate;
                        if (eventId.equals(message.getStringProperty(DeadLetteredEvents.EVENT_ID_PROPERTY))) {
                            found[0] = message;
                        }
                    }
                }
            }
            return found[0] != null;
        });
        return found[0];
    }
}
