package dev.agentcoordinator.engine;

import org.apache.activemq.artemis.jms.client.ActiveMQDestination;
import org.apache.activemq.artemis.jms.client.ActiveMQQueue;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** Which heartbeats get a stop, and what the stop says. */
class HeartbeatStopsTest {
    private static final String REPLY_QUEUE = "coordinator.replies";

    @Test
    void aStopGoesToTheAgentsOwnQueueNeverToTheCoordinatorsReplyQueue() {
        assertThat(HeartbeatStops.answerable(new ActiveMQQueue("stops.researcher.1"), REPLY_QUEUE)).isTrue();
        // a STOMP reply-to without "queue://": an address without a routing type
        assertThat(HeartbeatStops.answerable(ActiveMQDestination.fromPrefixedName("stops.researcher.2"), REPLY_QUEUE)).isTrue();
        assertThat(HeartbeatStops.answerable(null, REPLY_QUEUE)).isFalse();
        // nor a queue the coordinator reads, or an agent's request queue (its agent would take the stop for a request)
        for (String theirs : java.util.List.of("agent.events", "agent.messages", "agent.architect", "coordinator.message-responses",
                "agent.events.DLQ", "DLQ", "DLA", "ExpiryQueue", "activemq.management", "$sys.mqtt.sessions")) {
            assertThat(HeartbeatStops.answerable(new ActiveMQQueue(theirs), REPLY_QUEUE)).as(theirs).isFalse();
        }
        assertThat(HeartbeatStops.answerable(new ActiveMQQueue("agent.architect.stops"), REPLY_QUEUE)).isTrue();
        // a fully qualified queue name (address::queue) reaches the queue it names
        for (String theirs : java.util.List.of("agent.events::agent.events", "agent.architect::agent.architect", "DLA::DLA")) {
            assertThat(AnswerQueues.answerable(theirs, REPLY_QUEUE)).as(theirs).isFalse();
        }
        // an agent that copied the request's JMSReplyTo onto its heartbeat: a stop there would read as a malformed reply
        assertThat(HeartbeatStops.answerable(new ActiveMQQueue(REPLY_QUEUE), REPLY_QUEUE)).isFalse();
        assertThat(HeartbeatStops.answerable(ActiveMQDestination.fromPrefixedName(REPLY_QUEUE), REPLY_QUEUE)).isFalse();
    }

    @Test
    void theReasonSaysWhatBecameOfTheAttempt() {
        assertThat(HeartbeatStops.reason(row("failed", 1, "execution cancelled by request"), 1, "r:1", null))
                .isEqualTo("attempt 1 of step research is failed: execution cancelled by request");
        assertThat(HeartbeatStops.reason(row("running", 2, null), 1, "r:1", null))
                .isEqualTo("attempt 1 of step research was superseded: the step is running at attempt 2");
        assertThat(HeartbeatStops.reason(row("completed", 1, null), 1, "r:1", null))
                .isEqualTo("attempt 1 of step research is completed");
        assertThat(HeartbeatStops.reason(null, 1, "r:1", null)).isEqualTo("no step attempt r:1 exists");
        Map<String, Object> running = row("running", 1, null);
        running.put("deadline", java.sql.Timestamp.from(java.time.Instant.parse("2026-12-06T05:00:00Z")));
        assertThat(HeartbeatStops.reason(running, 1, "r:1", java.time.Instant.parse("2026-12-06T05:00:01.250Z").toEpochMilli()))
                .isEqualTo("attempt 1 of step research passed its deadline (2026-12-06T05:00:00.000000Z) before this heartbeat"
                        + " reached the broker (2026-12-06T05:00:01.250000Z): it is timed out");
        // a compensation's attempt is named as one: its step completed long before (an agent author read the step's as failed)
        Map<String, Object> undo = row("failed", 1, "attempt 1 timed out after 2000 ms");
        undo.put("kind", "compensation");
        assertThat(HeartbeatStops.reason(undo, 1, "r:1", null))
                .isEqualTo("attempt 1 of the compensation of step research is failed: attempt 1 timed out after 2000 ms");
    }

    private static Map<String, Object> row(String status, int attempt, String error) {
        Map<String, Object> row = new HashMap<>();
        row.put("execution_id", "e-1");
        row.put("step_id", "research");
        row.put("status", status);
        row.put("attempt", attempt);
        row.put("error", error);
        return row;
    }
}
