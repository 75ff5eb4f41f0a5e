package dev.agentcoordinator.engine;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import static dev.agentcoordinator.engine.ExecutionProbe.attempts;
import static dev.agentcoordinator.engine.ExecutionProbe.sendReply;
import static dev.agentcoordinator.engine.TestCoordinator.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A step whose every request the broker refuses (its agent's address full, with FAIL as its policy): no agent was ever
 * sent one, so its attempts' timeouts say the broker refused them and why, not only "attempt N timed out", which reads as
 * an agent that stayed silent; and the route's failure line names the broker's reason, not Spring's "Uncategorized
 * exception occurred during JMS processing".
 */
class RefusedRequestTest {
    private static final String AGENT = "f-refused-agent";
    private static final String QUEUE = Endpoints.agentQueue(AGENT);
    /** The loop's agent: the test answers its first iteration, then the broker refuses its queue. */
    private static final String ITERATION_AGENT = "f-refused-iteration-agent";
    private static final String ITERATION_QUEUE = Endpoints.agentQueue(ITERATION_AGENT);
    private static final String REFUSAL = ": its request was never accepted by the broker (";
    /** The steps of the undo's workflow: the first completes, the second fails, and the first's undo is refused. */
    private static ScriptedAgents agents;

    /**
     * The agent's queue holds a message nobody takes: the broker refuses sends to an address of a size limit of 0 once
     * it holds anything (UnsentRequestTest's refusals start while its agent holds a request), not while it is empty.
     */
    @BeforeAll
    static void queueHoldingAMessage() throws Exception {
        try (jakarta.jms.Connection connection = shared().connectionFactory().createConnection()) {
            jakarta.jms.Session session = connection.createSession(false, jakarta.jms.Session.AUTO_ACKNOWLEDGE);
            session.createProducer(session.createQueue(QUEUE)).send(session.createTextMessage("{\"filler\": true}"));
        }
        agents = new ScriptedAgents(shared().connectionFactory()).agent("f-refused-worker",
                r -> List.of(r.action().equals("fails") ? ScriptedAgents.Reply.error("fails", false) : ScriptedAgents.Reply.ok(Map.of("done", true))));
    }

    /** What the queue holds is taken off: the filler and, had the broker taken one, a request. */
    @AfterAll
    static void emptyQueues() throws Exception {
        agents.close();
        try (jakarta.jms.Connection connection = shared().connectionFactory().createConnection()) {
            connection.start();
            jakarta.jms.Session session = connection.createSession(false, jakarta.jms.Session.AUTO_ACKNOWLEDGE);
            for (String queue : List.of(QUEUE, ITERATION_QUEUE)) {
                jakarta.jms.MessageConsumer consumer = session.createConsumer(session.createQueue(queue));
                for (jakarta.jms.Message message = consumer.receive(5000); message != null; message = consumer.receive(500)) {
                    // taken off
                }
                consumer.close();
            }
        }
    }

    /** The failures logged for the refused sends of the workflow's routes and of the retry sweep: each names the broker's reason. */
    private static void assertFailuresNameTheRefusal(CapturedLog log, String workflowId, String agent) {
        List<String> failedSends = log.lines().stream().filter(line -> line.startsWith("ERROR Failed delivery")
                && (line.contains("wf." + workflowId) || line.contains("coordinator.retries"))).toList();
        assertThat(failedSends).as("the refused sends' failures").anySatisfy(line -> assertThat(line).contains("wf." + workflowId));
        assertThat(failedSends).allSatisfy(line -> assertThat(line.lines().findFirst().orElseThrow())
                .as("the first line names the broker's reason")
                .contains("caught: dev.agentcoordinator.engine.UnacceptedRequestException: the broker did not accept the request: ")
                .contains("Address \"agent." + agent + "\" is full"));
    }

    @Test
    void attemptsWhoseRequestsTheBrokerRefusedTimeOutNamingTheRefusal() throws Exception {
        String executionId;
        try (RefusedSends refused = RefusedSends.to(QUEUE); CapturedLog log = CapturedLog.ofRoot()) {
            String eventId = sendEvent("F_REFUSED_REQUEST", "{}");
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100))
                    .until(() -> "failed".equals(executionStatus(executionOf(eventId))));
            executionId = executionOf(eventId);

            assertFailuresNameTheRefusal(log, "f_refused_request", AGENT);
        }
        String refusal = REFUSAL;
        assertThat((String) stepRow(executionId, "refused").get("error"))
                .startsWith("attempt 2 timed out after 1500 ms" + refusal).contains("Address \"agent." + AGENT + "\" is full");
        assertThat(attempts(executionId, "refused")).hasSize(2).allSatisfy(attempt -> {
            assertThat(attempt).containsEntry("status", "timed_out");
            assertThat((String) attempt.get("error")).startsWith("attempt " + attempt.get("attempt") + " timed out after 1500 ms" + refusal)
                    .contains("Address \"agent." + AGENT + "\" is full");
        });
    }

    /**
     * The undo of a completed step, started by the reply of the step that failed, whose every request the broker refuses:
     * it times out saying so, as a step's attempt does.
     */
    @Test
    void anUndoWhoseRequestsTheBrokerRefusedTimesOutNamingTheRefusal() throws Exception {
        String executionId;
        try (RefusedSends refused = RefusedSends.to(QUEUE); CapturedLog log = CapturedLog.ofRoot()) {
            String eventId = sendEvent("F_REFUSED_UNDO", "{}");
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100))
                    .until(() -> "compensation_failed".equals(executionStatus(executionOf(eventId))));
            executionId = executionOf(eventId);
            assertFailuresNameTheRefusal(log, "f_refused_undo", AGENT);
        }
        List<Map<String, Object>> undo = query("SELECT a.attempt, a.status, a.error FROM step_attempts a"
                + " JOIN workflow_step_executions s ON s.id = a.step_execution_id"
                + " WHERE s.execution_id = ? AND s.step_id = 'undone' AND s.kind = 'compensation' ORDER BY a.attempt", executionId);
        assertThat(undo).singleElement().satisfies(attempt -> {
            assertThat(attempt).containsEntry("status", "timed_out");
            assertThat((String) attempt.get("error")).startsWith("attempt 1 timed out after 1500 ms" + REFUSAL)
                    .contains("Address \"agent." + AGENT + "\" is full");
        });
    }

    /**
     * A loop's next iteration, started by the reply of the one before, whose request the broker refuses: it times out
     * saying so, and the reply's failure names the broker's reason. It went out as a plain send, which noted nothing and
     * failed with Spring's "Uncategorized exception occurred during JMS processing".
     */
    @Test
    void anIterationWhoseRequestTheBrokerRefusedTimesOutNamingTheRefusal() throws Exception {
        String executionId;
        try (CapturedLog log = CapturedLog.ofRoot()) {
            String eventId = sendEvent("F_REFUSED_ITERATION", "{}");
            jakarta.jms.Message first;
            try (jakarta.jms.Connection connection = shared().connectionFactory().createConnection()) {
                connection.start();
                jakarta.jms.Session session = connection.createSession(false, jakarta.jms.Session.AUTO_ACKNOWLEDGE);
                jakarta.jms.Queue queue = session.createQueue(ITERATION_QUEUE);
                try (jakarta.jms.MessageConsumer consumer = session.createConsumer(queue)) {
                    first = consumer.receive(30_000);
                }
                assertThat(first).as("the first iteration's request").isNotNull();
                // a message nobody takes: the broker refuses what comes next once the queue holds one
                session.createProducer(queue).send(session.createTextMessage("{\"filler\": true}"));
            }
            try (RefusedSends refused = RefusedSends.to(ITERATION_QUEUE)) {
                sendReply(first.getJMSCorrelationID(), "{\"status\": \"ok\", \"output\": {\"done\": false}}");
                await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100))
                        .until(() -> "failed".equals(executionStatus(executionOf(eventId))));
                executionId = executionOf(eventId);
                assertFailuresNameTheRefusal(log, "f_refused_iteration", ITERATION_AGENT);
            }
        }
        List<Map<String, Object>> iterations = query("SELECT status, error FROM workflow_step_executions WHERE execution_id = ?"
                + " AND step_id = 'refine' ORDER BY iteration", executionId);
        assertThat(iterations).extracting(row -> row.get("status")).containsExactly("completed", "failed");
        assertThat((String) iterations.get(1).get("error"))
                .startsWith("attempt 1 timed out after 8000 ms" + REFUSAL).contains("Address \"agent." + ITERATION_AGENT + "\" is full");
    }
}
