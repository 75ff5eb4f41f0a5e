package dev.agentcoordinator.engine;

import dev.agentcoordinator.DroppedAtClose;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.jdbc.core.JdbcTemplate;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static dev.agentcoordinator.engine.ExecutionProbe.*;
import static dev.agentcoordinator.engine.ScriptedAgents.Reply;
import static dev.agentcoordinator.engine.TestCoordinator.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A reply starts the next step's attempt (autocommitted: its deadline from that start) and sends its request in the
 * reply's JMS transaction; the send fails, and the reply rolls back with the request. Its redelivery came after the
 * attempt's deadline (a chaos run: PostgreSQL lost mid-way, an outage longer than the step's timeout), found the step
 * running, made its lease due, and the retry sweep did not send it, past its deadline: the attempt timed out, its agent
 * never having had its request. A redelivery the broker flags as such now has the request go as a first send, the
 * attempt's time from that send.
 */
class RequestRolledBackWithItsMessageTest {
    private static final String LATE_AGENT = "f-rolledback-late";
    private static final String UNDO_AGENT = "f-rolledback-undo";
    private static ScriptedAgents agents;

    @BeforeAll
    static void agents() throws Exception {
        agents = new ScriptedAgents(shared().connectionFactory())
                .agent("f-rolledback-agent", r -> List.of(r.action().equals("fails") ? Reply.error("fails", false) : Reply.ok(Map.of("ok", true))))
                .agent(LATE_AGENT, r -> List.of(Reply.ok(Map.of("ran", true))))
                .agent(UNDO_AGENT, r -> List.of(Reply.ok(Map.of("undone", true))));
    }

    @AfterAll
    static void stop() throws Exception {
        agents.close();
    }

    /**
     * The first send to {@code queue} fails once it went into the consumed message's transaction, as a producer the
     * broker closed under it: the message rolls back, and the request with it.
     */
    private static final class FirstSendFails extends org.apache.camel.support.EventNotifierSupport {
        private final String queue;
        private final java.util.concurrent.atomic.AtomicBoolean failed = new java.util.concurrent.atomic.AtomicBoolean();

        FirstSendFails(String queue) {
            this.queue = queue;
        }

        @Override
        public boolean isEnabled(org.apache.camel.spi.CamelEvent event) {
            return event instanceof org.apache.camel.spi.CamelEvent.ExchangeSentEvent;
        }

        @Override
        public void notify(org.apache.camel.spi.CamelEvent event) {
            org.apache.camel.spi.CamelEvent.ExchangeSentEvent sent = (org.apache.camel.spi.CamelEvent.ExchangeSentEvent) event;
            if (sent.getEndpoint().getEndpointUri().contains("queue:" + queue) && failed.compareAndSet(false, true)) {
                sent.getExchange().setException(new IllegalStateException("the broker closed the producer (the test)"));
            }
        }
    }

    /**
     * One case: the trigger of its workflow, the row (step and kind) whose first request rolls back with the message that
     * started it, the agent it goes to, and how its execution settles once that request was answered. The request's send
     * fails ({@link FirstSendFails}), or, with {@code undoStartRefusedOnce}, goes and the start of that undo, planned
     * after it, fails once, which rolls the message back with the request.
     */
    private record RolledBack(String trigger, String stepId, String kind, String agent, String settled, String otherwise,
                              String undoStartRefusedOnce) {
    }

    @Test
    void aRequestThatRolledBackWithItsReplyAndIsRedeliveredPastItsDeadlineGoesWithItsWholeTime() throws Exception {
        redeliveredPastItsDeadline(new RolledBack("F_ROLLED_BACK_REQUEST", "rolled_back", "step", LATE_AGENT, "completed", "failed", null));
    }

    /**
     * The same for an undo: the reply of the step that fails starts the undos of the two before it; the second's start
     * fails, and the reply rolls back with the first's request. Its redelivery made that undo's lease due, and the sweep
     * left it past its deadline: the undo timed out, never sent, and the execution ended compensation_failed.
     */
    @Test
    void anUndoThatRolledBackWithItsReplyAndIsRedeliveredPastItsDeadlineGoesWithItsWholeTime() throws Exception {
        redeliveredPastItsDeadline(new RolledBack("F_ROLLED_BACK_UNDO", "rolled_back_undo", "compensation", UNDO_AGENT,
                "compensated", "compensation_failed", "then_halting_undo"));
    }

    /** The requests {@code agent} got for the execution. */
    private static List<ScriptedAgents.Received> requestsTo(String agent, String executionId) {
        return agents.received().stream().filter(r -> r.agent().equals(agent)
                && r.request().path("execution_id").asText().equals(executionId)).toList();
    }

    private void redeliveredPastItsDeadline(RolledBack rolledBack) throws Exception {
        JdbcTemplate jdbc = new JdbcTemplate(shared().dataSource());
        try (DroppedAtClose created = new DroppedAtClose(jdbc)) {
            // the redeliveries are refused (rolled back again) while the gate is shut: the test then holds the row, so that
            // the one after waits for it, past the attempt's deadline, while the timeout sweep skips the row it holds
            created.create("CREATE TABLE test_rolled_back_gate (open boolean NOT NULL)", "DROP TABLE IF EXISTS test_rolled_back_gate");
            jdbc.update("INSERT INTO test_rolled_back_gate VALUES (false)");
            created.create("CREATE SEQUENCE test_rolled_back_refusals", "DROP SEQUENCE IF EXISTS test_rolled_back_refusals");
            created.create("""
                    CREATE FUNCTION test_rolled_back_replay() RETURNS trigger AS $$
                    BEGIN
                        IF NOT (SELECT open FROM test_rolled_back_gate) THEN
                            PERFORM nextval('test_rolled_back_refusals');
                            RAISE EXCEPTION 'replay refused by the test';
                        END IF;
                        RETURN NEW;
                    END;
                    $$ LANGUAGE plpgsql""", "DROP FUNCTION IF EXISTS test_rolled_back_replay()");
            created.create("CREATE TRIGGER test_rolled_back_replay BEFORE UPDATE ON workflow_step_executions FOR EACH ROW "
                    + "WHEN (NEW.step_id = '" + rolledBack.stepId() + "' AND NEW.kind = '" + rolledBack.kind() + "' AND NEW.status = 'running'"
                    + " AND OLD.request_due_at IS NULL AND NEW.request_due_at IS NOT NULL) EXECUTE FUNCTION test_rolled_back_replay()",
                    "DROP TRIGGER IF EXISTS test_rolled_back_replay ON workflow_step_executions");
            if (rolledBack.undoStartRefusedOnce() != null) {
                created.create("CREATE SEQUENCE test_rolled_back_undo_starts", "DROP SEQUENCE IF EXISTS test_rolled_back_undo_starts");
                created.create("CREATE FUNCTION test_rolled_back_undo_start() RETURNS trigger AS $$ BEGIN"
                        + " IF nextval('test_rolled_back_undo_starts') = 1 THEN RAISE EXCEPTION 'undo start refused once by the test'; END IF;"
                        + " RETURN NEW; END; $$ LANGUAGE plpgsql", "DROP FUNCTION IF EXISTS test_rolled_back_undo_start()");
                created.create("CREATE TRIGGER test_rolled_back_undo_start BEFORE UPDATE ON workflow_step_executions FOR EACH ROW"
                        + " WHEN (NEW.step_id = '" + rolledBack.undoStartRefusedOnce() + "' AND NEW.kind = 'compensation'"
                        + " AND OLD.status = 'pending' AND NEW.status = 'running') EXECUTE FUNCTION test_rolled_back_undo_start()",
                        "DROP TRIGGER IF EXISTS test_rolled_back_undo_start ON workflow_step_executions");
            }
            String eventId;
            Object row;
            try (Connection holder = shared().dataSource().getConnection()) {
                // (an undo's send goes: nothing to fail there)
                FirstSendFails firstSendFails = new FirstSendFails(rolledBack.undoStartRefusedOnce() == null
                        ? Endpoints.agentQueue(rolledBack.agent()) : "none");
                shared().camelContext().getManagementStrategy().addEventNotifier(firstSendFails);
                firstSendFails.start();
                try {
                    eventId = sendEvent(rolledBack.trigger(), "{}");
                    // the reply that started the row's attempt sent its request, the send failed, the reply rolled back and came again
                    await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(20)).until(() -> executionOf(eventId) != null
                            && jdbc.queryForObject("SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM test_rolled_back_refusals",
                            Long.class) > 0);
                    Map<String, Object> started = query("SELECT id, status, attempt FROM workflow_step_executions WHERE execution_id = ?"
                            + " AND step_id = ? AND kind = ?", executionOf(eventId), rolledBack.stepId(), rolledBack.kind()).get(0);
                    assertThat(started).containsEntry("status", "running").containsEntry("attempt", 1);
                    row = started.get("id");
                    holder.setAutoCommit(false);
                    try (PreparedStatement hold = holder.prepareStatement("SELECT 1 FROM workflow_step_executions WHERE id = ? FOR UPDATE")) {
                        hold.setObject(1, row);
                        hold.executeQuery().close();
                    }
                } finally {
                    shared().camelContext().getManagementStrategy().removeEventNotifier(firstSendFails);
                }
                jdbc.update("UPDATE test_rolled_back_gate SET open = true");
                int holderPid;
                try (PreparedStatement pid = holder.prepareStatement("SELECT pg_backend_pid()"); ResultSet result = pid.executeQuery()) {
                    result.next();
                    holderPid = result.getInt(1);
                }
                // a redelivery waits for the row, and the attempt's deadline has passed
                await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50)).until(() -> jdbc.queryForObject(
                        "SELECT count(*) FROM pg_stat_activity WHERE ? = ANY(pg_blocking_pids(pid))", Long.class, holderPid) > 0
                        && Boolean.TRUE.equals(jdbc.queryForObject("SELECT deadline < clock_timestamp() FROM workflow_step_executions"
                        + " WHERE id = ?", Boolean.class, row)));
                assertThat(requestsTo(rolledBack.agent(), executionOf(eventId))).as("requests its agent got while held").isEmpty();
                holder.rollback();
            }
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50)).until(() -> List.of(rolledBack.settled(),
                    rolledBack.otherwise()).contains(String.valueOf(executionStatus(executionOf(eventId)))));
            String executionId = executionOf(eventId);
            assertThat(query("SELECT a.status, a.error FROM step_attempts a WHERE a.step_execution_id = ? ORDER BY a.attempt", row))
                    .extracting(a -> a.get("status") + ": " + a.get("error")).containsExactly("completed: null");
            assertThat(requestsTo(rolledBack.agent(), executionId)).extracting(r -> r.request().path("attempt").asInt())
                    .containsExactly(1);
            assertThat(executionStatus(executionId)).isEqualTo(rolledBack.settled());
        }
    }
}
