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
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A duplicate (late) reply to a settled execution publishes its onSuccess event again (guarantees.md). Read after the
 * retention sweep deleted the execution, the execution it chained to and that event's key (agent_events), it started the
 * chained workflow a second time; it goes to the DLQ. The events route is stopped while the sweep runs, standing for a
 * backlog on agent.events (or paused consumers).
 */
class LateReplyAfterRetentionTest {
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
    void aLateReplysOutcomeEventConsumedAfterRetentionDoesNotStartTheChainAgain() throws Exception {
        Path data = Files.createDirectory(folder.resolve("data"));
        Path workflows = Files.createDirectory(folder.resolve("workflows"));
        Files.writeString(workflows.resolve("first.yaml"), FIRST);
        Files.writeString(workflows.resolve("second.yaml"), SECOND);
        Map<String, String> settings = new HashMap<>(TestCoordinator.settings(data, workflows).values());
        settings.put("coordinator.retention.days", "30");
        settings.put("coordinator.retention.period-ms", "200");
        try (RunningCoordinator coordinator = CoordinatorApp.start(CoordinatorSettings.fromMap(settings));
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
