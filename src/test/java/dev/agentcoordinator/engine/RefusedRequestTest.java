package dev.agentcoordinator.engine;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;

import static dev.agentcoordinator.engine.ExecutionProbe.attempts;
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
    }

    /** What the queue holds is taken off: the filler and, had the broker taken one, a request. */
    @AfterAll
    static void emptyQueue() throws Exception {
        try (jakarta.jms.Connection connection = shared().connectionFactory().createConnection()) {
            connection.start();
            jakarta.jms.Session session = connection.createSession(false, jakarta.jms.Session.AUTO_ACKNOWLEDGE);
            jakarta.jms.MessageConsumer consumer = session.createConsumer(session.createQueue(QUEUE));
            for (jakarta.jms.Message message = consumer.receive(5000); message != null; message = consumer.receive(500)) {
                // taken off
            }
        }
    }

    @Test
    void attemptsWhoseRequestsTheBrokerRefusedTimeOutNamingTheRefusal() throws Exception {
        String executionId;
        try (RefusedSends refused = RefusedSends.to(QUEUE); CapturedLog log = CapturedLog.ofRoot()) {
            String eventId = sendEvent("F_REFUSED_REQUEST", "{}");
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100))
                    .until(() -> "failed".equals(executionStatus(executionOf(eventId))));
            executionId = executionOf(eventId);

            List<String> failedSends = log.lines().stream().filter(line -> line.startsWith("ERROR Failed delivery")
                    && (line.contains("wf.f_refused_request") || line.contains("coordinator.retries"))).toList();
            assertThat(failedSends).as("the refused sends' failures").isNotEmpty();
            assertThat(failedSends).allSatisfy(line -> assertThat(line.lines().findFirst().orElseThrow())
                    .as("the first line names the broker's reason")
                    .contains("caught: dev.agentcoordinator.engine.UnacceptedRequestException: the broker did not accept the request: ")
                    .contains("Address \"agent." + AGENT + "\" is full"));
        }
        String refusal = ": its request was never accepted by the broker (";
        assertThat((String) stepRow(executionId, "refused").get("error"))
                .startsWith("attempt 2 timed out after 1500 ms" + refusal).contains("Address \"agent." + AGENT + "\" is full");
        assertThat(attempts(executionId, "refused")).hasSize(2).allSatisfy(attempt -> {
            assertThat(attempt).containsEntry("status", "timed_out");
            assertThat((String) attempt.get("error")).startsWith("attempt " + attempt.get("attempt") + " timed out after 1500 ms" + refusal)
                    .contains("Address \"agent." + AGENT + "\" is full");
        });
    }
}
