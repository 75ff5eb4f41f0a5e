package dev.agentcoordinator.engine;

import org.apache.camel.CamelContext;
import org.apache.camel.spi.CamelEvent;
import org.apache.camel.support.EventNotifierSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import static dev.agentcoordinator.engine.ExecutionProbe.awaitExecution;
import static dev.agentcoordinator.engine.ExecutionProbe.requests;
import static dev.agentcoordinator.engine.ExecutionProbe.sendReply;
import static dev.agentcoordinator.engine.TestCoordinator.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The retry sweep sends again a request whose lease ran out once it has checked that its attempt still runs
 * (request-still-due.sql). A reply recorded between that check and the send did not stop it: the agent got the request
 * of an attempt already settled (a chaos run: 1 of 2,848 requests). The check's row lock is now held until
 * the request has left and its lease is cleared, so such a reply is recorded only after the send.
 */
class ReplyWaitsForARequestSentAgainTest {
    private static final String AGENT = "f-lease-resend-agent";
    private static ScriptedAgents agents;

    @BeforeAll
    static void agents() throws Exception {
        // no reply: the test answers by hand
        agents = new ScriptedAgents(shared().connectionFactory()).agent(AGENT, r -> List.of());
    }

    @AfterAll
    static void stop() throws Exception {
        agents.close();
    }

    @Test
    void aReplyWhileTheSweepSendsItsRequestAgainIsRecordedOnlyOnceTheRequestLeft() throws Exception {
        String eventId = sendEvent("F_LEASE_RESEND", "{}");
        await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(50))
                .until(() -> executionOf(eventId) != null && requests(agents, executionOf(eventId), "held").size() == 1);
        String executionId = executionOf(eventId);
        Object rowId = query("SELECT id FROM workflow_step_executions WHERE execution_id = ? AND step_id = 'held' AND kind = 'step'",
                executionId).get(0).get("id");
        ReplyDuringTheSend replyDuringTheSend = new ReplyDuringTheSend(requests(agents, executionId, "held").get(0).correlationId(), executionId, rowId);
        CamelContext camel = shared().camelContext();
        camel.getManagementStrategy().addEventNotifier(replyDuringTheSend);
        replyDuringTheSend.start();
        try {
            // its lease ran out, as if its request had not left: the retry sweep sends it again
            assertThat(query("UPDATE workflow_step_executions SET request_due_at = now() - interval '1 second'"
                    + " WHERE id = ? AND status = 'running' RETURNING id", rowId)).hasSize(1);
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(50)).until(() -> replyDuringTheSend.seen.get() != null);
        } finally {
            camel.getManagementStrategy().removeEventNotifier(replyDuringTheSend);
        }
        assertThat(replyDuringTheSend.seen.get()).as("the reply sent once the sweep had checked the request still due")
                .isEqualTo("waiting for the send");
        awaitExecution(eventId, "completed");
        assertThat(requests(agents, executionId, "held")).as("the request, and its second send").hasSize(2);
    }

    /**
     * Once the retry sweep has checked that this request is still due (request-still-due.sql), before it sends it: its
     * reply, and what became of it, once recorded or waiting for a lock (the sweep's, on the attempt's row).
     */
    private static final class ReplyDuringTheSend extends EventNotifierSupport {
        private final String correlationId;
        private final String executionId;
        private final Object rowId;
        private final AtomicBoolean replied = new AtomicBoolean();
        final AtomicReference<String> seen = new AtomicReference<>();

        ReplyDuringTheSend(String correlationId, String executionId, Object rowId) {
            this.correlationId = correlationId;
            this.executionId = executionId;
            this.rowId = rowId;
        }

        @Override
        public boolean isEnabled(CamelEvent event) {
            return event instanceof CamelEvent.ExchangeSentEvent;
        }

        @Override
        public void notify(CamelEvent event) {
            if (!(event instanceof CamelEvent.ExchangeSentEvent sent)
                    || !sent.getEndpoint().getEndpointUri().contains("/request-still-due.sql")
                    || !executionId.equals(sent.getExchange().getMessage().getHeader(Headers.EXECUTION_ID))
                    || !replied.compareAndSet(false, true)) {
                return;
            }
            try {
                sendReply(correlationId, "{\"status\": \"ok\", \"output\": {\"held\": true}}");
                seen.set(await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(20)).until(this::replyState, Objects::nonNull));
            } catch (Exception | AssertionError e) {
                seen.set("neither recorded nor waiting: " + e);
            }
        }

        /** Recorded, waiting for a lock, or neither yet (null). */
        private String replyState() {
            if (!query("SELECT 1 FROM workflow_step_executions WHERE id = ? AND status = 'completed'", rowId).isEmpty()) {
                return "recorded before the send";
            }
            List<Map<String, Object>> waiting = query("SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                    + " AND query LIKE '%complete_attempt_and_start%' AND pid <> pg_backend_pid()");
            return waiting.isEmpty() ? null : "waiting for the send";
        }
    }
}
