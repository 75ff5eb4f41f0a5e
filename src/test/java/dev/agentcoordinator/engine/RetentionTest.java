package dev.agentcoordinator.engine;

import dev.agentcoordinator.CoordinatorApp;
import dev.agentcoordinator.RunningCoordinator;
import dev.agentcoordinator.config.CoordinatorSettings;
import jakarta.jms.Connection;
import jakarta.jms.MessageProducer;
import jakarta.jms.QueueBrowser;
import jakarta.jms.Session;
import jakarta.jms.TextMessage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.jdbc.core.JdbcTemplate;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Retention: executions settled longer ago than {@code coordinator.retention.days} go, with their step
 * rows, attempts and events, and so do the other records older than that; running executions and
 * recent history stay. Its own coordinator: the sweep runs every 200 ms here. Age is made by moving
 * timestamps back in the database.
 */
class RetentionTest {
    private static final String WORKFLOW = """
            id: retained
            name: Retained workflow
            trigger: RETAINED
            config: { timeout_ms: 60000 }
            steps:
              - id: first
                agent: retained-first
                action: first
              - id: second
                agent: retained-second
                action: second
                depends_on: [first]
            """;
    /** Its agent never answers: the execution stays running. */
    private static final String HELD = """
            id: held
            name: Held workflow
            trigger: HELD
            config: { timeout_ms: 3600000 }
            steps:
              - id: waits
                agent: nobody-answers
                action: wait
                config: { timeout_ms: 3600000 }
            """;

    private static final String FIRST = """
            id: lr_first
            name: first
            trigger: LR_FIRST
            onSuccess: LR_FIRST_DONE
            config: { timeout_ms: 60000 }
            steps:
              - id: only
                agent: lr-first-agent
                action: work
            """;
    private static final String SECOND = """
            id: lr_second
            name: chained
            trigger: LR_FIRST_DONE
            config: { timeout_ms: 60000 }
            steps:
              - id: follow
                agent: lr-second-agent
                action: follow
            """;

    @TempDir
    Path folder;

    @Test
    void deletesWhatSettledBeforeTheRetentionAndKeepsTheRest() throws Exception {
        try (RunningCoordinator coordinator = startedWith(WORKFLOW, HELD);
             ScriptedAgents agents = new ScriptedAgents(coordinator.connectionFactory())) {
            JdbcTemplate db = new JdbcTemplate(coordinator.dataSource());
            agents.echo("retained-first", r -> Map.of("done", "first")).echo("retained-second", r -> Map.of("done", "second"));
            List<String> events = List.of(send(coordinator, "RETAINED"), send(coordinator, "RETAINED"), send(coordinator, "RETAINED"),
                    send(coordinator, "RETAINED"));
            String heldEvent = send(coordinator, "HELD");
            await().atMost(Duration.ofSeconds(30)).until(() -> events.stream().allMatch(e -> "completed".equals(status(db, executionOf(db, e))))
                    && "running".equals(status(db, executionOf(db, heldEvent))));
            String old = executionOf(db, events.get(0));
            String olderStill = executionOf(db, events.get(1));
            String recent = executionOf(db, events.get(2));
            String unsent = executionOf(db, events.get(3));
            String held = executionOf(db, heldEvent);

            // 31 and 400 days ago; the running execution started 40 days ago
            age(db, old, 31);
            age(db, olderStill, 400);
            // as old, but its outcome event is still to send (the broker was away, say): kept until it is sent. The row
            // first: a sweep between the two deleted the execution aged already, and the row's insert failed (its key)
            db.update("INSERT INTO outcome_outbox (execution_id, status) VALUES (?, 'completed')", unsent);
            age(db, unsent, 400);
            db.update("UPDATE workflow_executions SET created_at = now() - interval '40 days', started_at = now() - interval '40 days' WHERE id = ?", held);
            db.update("UPDATE agent_events SET received_at = now() - interval '40 days' WHERE execution_id = ?", held);
            db.update("INSERT INTO agent_events (id, event_key, type, received_at) VALUES ('ev-old', 'ev-old', 'NOBODY_LISTENS', now() - interval '31 days'),"
                    + " ('ev-new', 'ev-new', 'NOBODY_LISTENS', now() - interval '29 days')");
            db.update("INSERT INTO ignored_replies (reason, received_at) VALUES ('old', now() - interval '31 days'), ('new', now() - interval '29 days')");
            db.update("INSERT INTO agent_messages (id, from_agent, to_agent, message_type, status, created_at) VALUES"
                    + " ('m-old', 'a', 'b', 'note', 'delivered', now() - interval '31 days'),"
                    + " ('m-old-pending', 'a', 'b', 'note', 'pending', now() - interval '31 days'),"
                    + " ('m-new', 'a', 'b', 'note', 'delivered', now() - interval '29 days')");
            // an old question still waiting for its response (a response timeout longer than the retention)
            db.update("INSERT INTO agent_messages (id, from_agent, to_agent, message_type, status, requires_response, created_at, expires_at)"
                    + " VALUES ('m-old-awaiting', 'a', 'b', 'question', 'delivered', true, now() - interval '31 days', now() + interval '1 day')");
            db.update("INSERT INTO lock_events (resource_type, resource_id, event, holder, taken_by, created_at) VALUES"
                    + " ('user', 'u-1', 'preempted', '{}', '{}', now() - interval '31 days'),"
                    + " ('user', 'u-2', 'preempted', '{}', '{}', now() - interval '29 days')");

            // every expired row: a sweep may run between the inserts above, and the next one takes the rest
            await().atMost(Duration.ofSeconds(20)).until(() -> status(db, old) == null && status(db, olderStill) == null
                    && count(db, "SELECT count(*) FROM agent_events WHERE id = 'ev-old'") == 0
                    && count(db, "SELECT count(*) FROM ignored_replies WHERE reason = 'old'") == 0
                    && count(db, "SELECT count(*) FROM agent_messages WHERE id = 'm-old'") == 0
                    && count(db, "SELECT count(*) FROM lock_events WHERE resource_id = 'u-1'") == 0);

            for (String gone : List.of(old, olderStill)) {
                assertThat(count(db, "SELECT count(*) FROM workflow_step_executions WHERE execution_id = ?", gone)).isZero();
                assertThat(count(db, "SELECT count(*) FROM step_attempts WHERE execution_id = ?", gone)).isZero();
                assertThat(count(db, "SELECT count(*) FROM agent_events WHERE execution_id = ?", gone)).as("its event").isZero();
            }
            assertThat(status(db, recent)).isEqualTo("completed");
            assertThat(count(db, "SELECT count(*) FROM workflow_step_executions WHERE execution_id = ?", recent)).isEqualTo(2);
            assertThat(count(db, "SELECT count(*) FROM step_attempts WHERE execution_id = ?", recent)).isEqualTo(2);
            assertThat(status(db, held)).as("running, however old").isEqualTo("running");
            assertThat(count(db, "SELECT count(*) FROM agent_events WHERE execution_id = ?", held))
                    .as("the event of an execution that is still there keeps it from starting twice").isEqualTo(1);
            assertThat(count(db, "SELECT count(*) FROM agent_events WHERE id = 'ev-new'")).isEqualTo(1);
            assertThat(db.queryForList("SELECT reason FROM ignored_replies", String.class)).containsExactly("new");
            assertThat(db.queryForList("SELECT id FROM agent_messages ORDER BY id", String.class))
                    .containsExactly("m-new", "m-old-awaiting", "m-old-pending");
            assertThat(status(db, unsent)).as("its outcome event still to send").isEqualTo("completed");
            assertThat(db.queryForList("SELECT resource_id FROM lock_events", String.class)).containsExactly("u-2");
            assertThat(coordinator.camelContext().getRoute(RetentionRoutes.ROUTE_ID)).isNotNull();
            // 2 executions; their 2 events and ev-old; the old reply, message and lock event
            io.micrometer.core.instrument.MeterRegistry meters = coordinator.camelContext().getRegistry()
                    .lookupByNameAndType(dev.agentcoordinator.ops.Operations.METER_REGISTRY, io.micrometer.core.instrument.MeterRegistry.class);
            await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
                assertThat(meters.get("coordinator_retention_deleted").tag("what", "executions").counter().count()).isEqualTo(2);
                assertThat(meters.get("coordinator_retention_deleted").tag("what", "events").counter().count()).isEqualTo(3);
                assertThat(meters.get("coordinator_retention_deleted").tag("what", "records").counter().count()).isEqualTo(3);
            });
        }
    }

    @Test
    void isOffUnlessDaysAreSet() {
        CoordinatorSettings defaults = CoordinatorSettings.fromMap(Map.of());
        assertThat(defaults.retentionDays()).isZero();
        assertThat(new CoordinatorRoutes(new dev.agentcoordinator.definition.WorkflowCatalog(List.of()), defaults).builders())
                .noneMatch(RetentionRoutes.class::isInstance);
    }

    /**
     * A duplicate (late) reply to a settled execution publishes its onSuccess event again (guarantees.md). Read after the
     * retention sweep deleted the execution, the execution it chained to and that event's key (agent_events), it started the
     * chained workflow a second time; it goes to the DLQ. The events route is stopped while the sweep runs, standing for a
     * backlog on agent.events (or paused consumers).
     */
    @Test
    void aLateReplysOutcomeEventConsumedAfterRetentionDoesNotStartTheChainAgain() throws Exception {
        try (RunningCoordinator coordinator = startedWith(FIRST, SECOND);
             ScriptedAgents agents = new ScriptedAgents(coordinator.connectionFactory())) {
            JdbcTemplate db = new JdbcTemplate(coordinator.dataSource());
            agents.echo("lr-first-agent", r -> Map.of("done", true)).echo("lr-second-agent", r -> Map.of("followed", true));
            String eventId = UUID.randomUUID().toString();
            coordinator.camelContext().createProducerTemplate().sendBody("jms:queue:agent.events",
                    "{\"type\":\"LR_FIRST\",\"event_id\":\"" + eventId + "\",\"payload\":{}}");
            String[] first = new String[1];
            await().atMost(Duration.ofSeconds(30)).until(() -> {
                first[0] = db.queryForList("SELECT id FROM workflow_executions WHERE trigger_event_key = ? AND status = 'completed'",
                        String.class, eventId).stream().findFirst().orElse(null);
                return first[0] != null && chained(db, first[0], "completed") == 1;
            });
            String correlationId = agents.received("only").get(0).correlationId();

            // a backlog on agent.events: the events consumers take nothing for a while
            coordinator.camelContext().getRouteController().stopRoute("coordinator.events");
            // the agent's reply comes again (a duplicate): recorded, ignored, and the outcome event published again
            try (Connection connection = coordinator.connectionFactory().createConnection()) {
                Session session = connection.createSession(false, Session.AUTO_ACKNOWLEDGE);
                MessageProducer producer = session.createProducer(session.createQueue(coordinator.settings().replyQueue()));
                TextMessage reply = session.createTextMessage("{\"status\":\"ok\",\"output\":{\"done\":true}}");
                reply.setJMSCorrelationID(correlationId);
                producer.send(reply);
            }
            await().atMost(Duration.ofSeconds(20)).until(() -> onEventsQueue(coordinator, first[0] + ":completed"));

            // 31 days later: the sweep deletes both executions and the event that started the chained one
            db.update("UPDATE workflow_executions SET completed_at = now() - interval '31 days'");
            db.update("UPDATE agent_events SET received_at = now() - interval '31 days'");
            await().atMost(Duration.ofSeconds(20)).until(() -> db.queryForObject("SELECT count(*) FROM workflow_executions", Long.class) == 0
                    && db.queryForObject("SELECT count(*) FROM agent_events", Long.class) == 0);

            coordinator.camelContext().getRouteController().startRoute("coordinator.events");
            // consumed: it started the chained workflow again, was stored, or was refused
            await().atMost(Duration.ofSeconds(20)).until(() -> db.queryForObject("SELECT count(*) FROM workflow_executions", Long.class) > 0
                    || db.queryForObject("SELECT count(*) FROM agent_events", Long.class) > 0
                    || onQueue(coordinator, Endpoints.DEAD_LETTER_QUEUE, first[0] + ":completed"));
            assertThat(db.queryForList("SELECT id, status, chain_depth FROM workflow_executions WHERE workflow_id = 'lr_second'"))
                    .as("the chained workflow ran when the first execution settled; the late reply's outcome event must not start it again")
                    .isEmpty();
            assertThat(onQueue(coordinator, Endpoints.DEAD_LETTER_QUEUE, first[0] + ":completed")).as("refused, naming why").isTrue();
        }
    }

    /** A coordinator of its own on these definitions, its retention 30 days, swept every 200 ms. */
    private RunningCoordinator startedWith(String... definitions) throws Exception {
        Path data = Files.createDirectory(folder.resolve("data"));
        Path workflows = Files.createDirectory(folder.resolve("workflows"));
        for (int i = 0; i < definitions.length; i++) {
            Files.writeString(workflows.resolve("w" + i + ".yaml"), definitions[i]);
        }
        Map<String, String> settings = new HashMap<>(TestCoordinator.settings(data, workflows).values());
        settings.put("coordinator.retention.days", "30");
        settings.put("coordinator.retention.period-ms", "200");
        return CoordinatorApp.start(CoordinatorSettings.fromMap(settings));
    }

    /** An execution that settled {@code days} ago, and the event that started it, received then. */
    private static void age(JdbcTemplate db, String executionId, int days) {
        db.update("UPDATE workflow_executions SET completed_at = now() - make_interval(days => ?) WHERE id = ?", days, executionId);
        db.update("UPDATE agent_events SET received_at = now() - make_interval(days => ?) WHERE execution_id = ?", days, executionId);
    }

    private static String send(RunningCoordinator coordinator, String type) {
        String eventId = UUID.randomUUID().toString();
        coordinator.camelContext().createProducerTemplate()
                .sendBody("jms:queue:agent.events", "{\"type\":\"" + type + "\",\"event_id\":\"" + eventId + "\",\"payload\":{}}");
        return eventId;
    }

    private static String executionOf(JdbcTemplate db, String eventId) {
        return db.queryForList("SELECT id FROM workflow_executions WHERE trigger_event_key = ?", String.class, eventId)
                .stream().findFirst().orElse(null);
    }

    private static String status(JdbcTemplate db, String executionId) {
        return db.queryForList("SELECT status FROM workflow_executions WHERE id = ?", String.class, executionId)
                .stream().findFirst().orElse(null);
    }

    private static long count(JdbcTemplate db, String sql, Object... params) {
        return db.queryForObject(sql, Long.class, params);
    }
    private static long chained(JdbcTemplate db, String first, String status) {
        return db.queryForObject("SELECT count(*) FROM workflow_executions WHERE workflow_id = 'lr_second' AND status = ?"
                + " AND trigger_payload->>'execution_id' = ?", Long.class, status, first);
    }

    private static boolean onEventsQueue(RunningCoordinator coordinator, String eventId) throws Exception {
        return onQueue(coordinator, Endpoints.EVENTS_QUEUE, eventId);
    }

    private static boolean onQueue(RunningCoordinator coordinator, String queue, String eventId) throws Exception {
        try (Connection connection = coordinator.connectionFactory().createConnection()) {
            connection.start();
            Session session = connection.createSession(false, Session.AUTO_ACKNOWLEDGE);
            try (QueueBrowser browser = session.createBrowser(session.createQueue(queue))) {
                for (Object candidate : Collections.list(browser.getEnumeration())) {
                    if (candidate instanceof TextMessage text && text.getText().contains("\"event_id\":\"" + eventId + "\"")) {
                        return true;
                    }
                }
            }
        }
        return false;
    }
}
