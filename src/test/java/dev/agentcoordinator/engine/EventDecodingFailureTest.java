package dev.agentcoordinator.engine;

import dev.agentcoordinator.DroppedAtClose;
import jakarta.jms.Connection;
import jakarta.jms.Message;
import jakarta.jms.QueueBrowser;
import jakarta.jms.Session;
import jakarta.jms.TextMessage;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.jdbc.core.JdbcTemplate;

import java.time.Duration;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

import static dev.agentcoordinator.engine.ExecutionProbe.*;
import static dev.agentcoordinator.engine.TestCoordinator.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;
import static org.awaitility.Awaitility.await;

/**
 * Events the coordinator cannot decode go to agent.events.DLQ untouched, with the reason as a string
 * property; events nobody handles are stored and start nothing. Neither stops the event consumer.
 */
class EventDecodingFailureTest {
    private static ScriptedAgents agents;

    @BeforeAll
    static void agents() throws Exception {
        agents = new ScriptedAgents(shared().connectionFactory()).echo("f-decode-agent", r -> Map.of("ok", true));
    }

    @AfterAll
    static void stop() throws Exception {
        agents.close();
    }

    @Test
    void anEventThatIsNotJsonIsDeadLettered() throws Exception {
        String body = "this is not JSON " + marker();
        sendRaw(body);
        assertDeadLettered(body, "event is not valid JSON: Unrecognized token");
    }

    @Test
    void aJsonArrayIsDeadLettered() throws Exception {
        String body = "[\"" + marker() + "\"]";
        sendRaw(body);
        assertDeadLettered(body, "must be a JSON object, got array");
    }

    @Test
    void anEventWithoutTypeIsDeadLettered() throws Exception {
        String body = "{\"event_id\":\"" + marker() + "\",\"payload\":{}}";
        sendRaw(body);
        assertDeadLettered(body, "\"type\" must be a non-empty string");
    }

    @Test
    void anEventWhosePayloadIsNotAnObjectIsDeadLettered() throws Exception {
        String body = "{\"type\":\"F_DECODE\",\"payload\":\"" + marker() + "\"}";
        sendRaw(body);
        assertDeadLettered(body, "\"payload\" must be an object, got string");
    }

    /** A million zeros in an array: a text of 2 MB that a tree would take a hundred MB for, past the default bound. */
    @Test
    void anEventOfMoreTokensThanAreReadIsDeadLetteredNamingTheBoundAndItsSetting() throws Exception {
        String body = "{\"type\":\"F_DECODE\",\"event_id\":\"" + marker() + "\",\"payload\":{\"n\":["
                + "0,".repeat(1_000_000) + "0]}}";
        sendRaw(body);
        assertDeadLettered(body, Duration.ofSeconds(60), "event has more than 1,000,000 JSON tokens (keys, values, brackets): at most 1,000,000 are read"
                + " (coordinator.input.max-json-tokens)");
    }

    @Test
    void theCoordinatorKeepsServingAfterUndecodableEvents() throws Exception {
        String garbage = "{{{ " + marker();
        sendRaw(garbage);
        assertDeadLettered(garbage, "not valid JSON");

        String executionId = awaitExecution(sendEvent("F_DECODE", "{}"), "completed");
        assertThat(stepStatuses(executionId)).containsEntry("only", "completed");
    }

    @Test
    void anEventNoWorkflowHandlesIsStoredWithoutStartingAnything() {
        String eventId = sendEvent("F_NOBODY_LISTENS", "{\"note\":\"" + marker() + "\"}");

        await().atMost(Duration.ofSeconds(10)).until(() -> !query("SELECT 1 FROM agent_events WHERE event_key = ?", eventId).isEmpty());
        assertThat(query("SELECT type, workflow_id, execution_id, payload->>'note' AS note FROM agent_events WHERE event_key = ?", eventId))
                .singleElement().satisfies(r -> {
                    assertThat(r).containsEntry("type", "F_NOBODY_LISTENS").containsEntry("workflow_id", null)
                            .containsEntry("execution_id", null);
                    assertThat(r.get("note").toString()).startsWith("f-decode-");
                });
        assertThat(executionOf(eventId)).isNull();
    }

    /** An event_id names one event: a second event of another type under it is refused, not taken for a repeat. */
    @Test
    void anEventReusingTheIdOfAnEventOfAnotherTypeIsDeadLetteredAndChangesNothing() throws Exception {
        String key = marker();
        String executionId = awaitExecution(sendRawEvent("F_DECODE", key), "completed");
        String reuse = "{\"type\":\"F_NOBODY_LISTENS\",\"payload\":{},\"event_id\":\"" + key + "\"}";
        sendRaw(reuse);
        assertDeadLettered(reuse, "event_id \"" + key + "\" of this F_NOBODY_LISTENS event is already the id of an event of type "
                + "F_DECODE, which started execution " + executionId + " of f_decode");
        assertThat(query("SELECT type, deliveries FROM agent_events WHERE event_key = ?", key))
                .extracting(r -> r.get("type"), r -> r.get("deliveries")).containsExactly(tuple("F_DECODE", 1));

        // the other way round: the key of a stored event that started nothing does not start a workflow
        String storedKey = marker();
        sendRawEvent("F_NOBODY_LISTENS", storedKey);
        await().atMost(Duration.ofSeconds(10)).until(() -> !query("SELECT 1 FROM agent_events WHERE event_key = ?", storedKey).isEmpty());
        String trigger = "{\"type\":\"F_DECODE\",\"payload\":{},\"event_id\":\"" + storedKey + "\"}";
        List<String> errors;
        try (CapturedLog log = CapturedLog.ofRoot()) {
            sendRaw(trigger);
            assertDeadLettered(trigger, "is already the id of an event of type F_NOBODY_LISTENS; an event_id names one event");
            errors = log.atLeast(org.apache.logging.log4j.Level.ERROR);
        }
        assertThat(executionOf(storedKey)).isNull();
        // refused input is a WARN with its reason, not an ERROR with a stack trace (a workflow's start route logged one)
        assertThat(errors).filteredOn(e -> e.contains("InvalidEventException")).isEmpty();
    }

    /** Two events of one type under one event_id: the second is not a repeat of the first, its payload not lost. */
    @Test
    void anEventReusingTheIdOfAnEventOfItsTypeWithAnotherPayloadIsDeadLetteredAndChangesNothing() throws Exception {
        String key = marker();
        String executionId = awaitExecution(sendRawEvent("F_DECODE", key), "completed");
        sendRawEvent("F_DECODE", key);   // a true repeat still only counts
        await().atMost(Duration.ofSeconds(10)).until(() -> query("SELECT deliveries FROM agent_events WHERE event_key = ?", key)
                .get(0).get("deliveries").equals(2));
        assertAnotherPayloadIsRefused("F_DECODE", key, 2);
        assertThat(query("SELECT count(*)::int AS n FROM workflow_executions WHERE trigger_event_key = ?", key).get(0))
                .containsEntry("n", 1);
        assertThat(executionId).isNotNull();

        // an event that started nothing: the same
        String storedKey = marker();
        sendRawEvent("F_NOBODY_LISTENS", storedKey);
        await().atMost(Duration.ofSeconds(10)).until(() -> !query("SELECT 1 FROM agent_events WHERE event_key = ?", storedKey).isEmpty());
        assertAnotherPayloadIsRefused("F_NOBODY_LISTENS", storedKey, 1);
    }

    /** An event of {@code type} under {@code key} with another payload goes to the DLQ; the stored one keeps its deliveries. */
    private static void assertAnotherPayloadIsRefused(String type, String key, int deliveries) throws Exception {
        String other = "{\"type\":\"" + type + "\",\"payload\":{\"n\":2},\"event_id\":\"" + key + "\"}";
        sendRaw(other);
        assertDeadLettered(other, "event_id \"" + key + "\" of this " + type + " event is already the id of another " + type
                + " event, with another payload, received at ");
        assertThat(query("SELECT payload::text AS payload, deliveries FROM agent_events WHERE event_key = ?", key))
                .extracting(r -> r.get("payload"), r -> r.get("deliveries")).containsExactly(tuple("{}", deliveries));
    }

    /** A misspelt field is not stored: the WARN names it, with the field it may stand for, and the event's id. */
    @Test
    void anEventsIgnoredFieldsAreLoggedWithTheFieldTheyMayStandFor() throws Exception {
        String key = marker();
        List<String> warnings;
        try (CapturedLog log = CapturedLog.of(EventDecoder.class.getName())) {
            sendRaw("{\"type\":\"F_DECODE\",\"payloads\":{\"a\":1},\"event_id\":\"" + key + "\"}");
            awaitExecution(key, "completed");
            await().atMost(Duration.ofSeconds(10)).until(() -> !log.lines().isEmpty());
            warnings = log.lines();
        }
        assertThat(warnings).containsExactly("WARN Event " + key + " of type F_DECODE: event field \"payloads\" is ignored (an event has"
                + " \"type\", \"payload\" and \"event_id\"): did you mean \"payload\" for \"payloads\"?");
    }

    /** Sends an event of {@code type} with an empty payload and {@code key} as its event_id; returns the key. */
    private static String sendRawEvent(String type, String key) throws Exception {
        sendRaw("{\"type\":\"" + type + "\",\"payload\":{},\"event_id\":\"" + key + "\"}");
        return key;
    }

    /**
     * An event that decodes but fails every delivery (PostgreSQL refuses to store it) goes to the DLQ as
     * it came, with why its last delivery failed, after the deliveries the settings allow (3 here): one
     * that only is stored, and one whose workflow's start route fails (a route of its own, whose failures
     * the event route's error handling would not see).
     */
    @Test
    void anEventThatFailsEveryDeliveryIsDeadLetteredWithTheReasonOfItsLastFailure() throws Exception {
        for (String type : List.of("F_NOBODY_LISTENS", "F_DECODE")) {
            String marker = marker();
            String body = "{\"type\":\"" + type + "\",\"payload\":{\"note\":\"" + marker + "\"},\"event_id\":\"" + marker + "\"}";
            JdbcTemplate jdbc = new JdbcTemplate(shared().dataSource());
            String refusal = "test_refuse_" + marker.replace("-", "_");
            try (DroppedAtClose created = new DroppedAtClose(jdbc)) {
                // counts the refusals: a sequence is not rolled back with the refused insert's transaction
                created.create("CREATE SEQUENCE " + refusal, "DROP SEQUENCE IF EXISTS " + refusal);
                created.create("CREATE FUNCTION " + refusal + "() RETURNS trigger AS $$ BEGIN PERFORM nextval('" + refusal + "'); "
                        + "RAISE EXCEPTION 'event % refused by the test', NEW.event_key; END; $$ LANGUAGE plpgsql",
                        "DROP FUNCTION IF EXISTS " + refusal + "()");
                created.create("CREATE TRIGGER " + refusal + " BEFORE INSERT ON agent_events FOR EACH ROW WHEN (NEW.event_key = '"
                        + marker + "') EXECUTE FUNCTION " + refusal + "()", "DROP TRIGGER IF EXISTS " + refusal + " ON agent_events");
                sendRaw(body);
                assertDeadLettered(body, "its delivery failed 3 times; the last time: ERROR: event " + marker + " refused by the test");
                assertThat(jdbc.queryForObject("SELECT last_value FROM " + refusal, Long.class)).as(type).isEqualTo(3);
                assertThat(executionOf(marker)).isNull();
            }
        }
        String executionId = awaitExecution(sendEvent("F_DECODE", "{}"), "completed");
        assertThat(stepStatuses(executionId)).containsEntry("only", "completed");
    }

    /** An object whose deserialization is seen: what a hostile sender's object would make a readObject do. */
    static final class Tripwire implements java.io.Serializable {
        static final java.util.concurrent.atomic.AtomicInteger READ = new java.util.concurrent.atomic.AtomicInteger();

        private void readObject(java.io.ObjectInputStream in) throws java.io.IOException, ClassNotFoundException {
            in.defaultReadObject();
            READ.incrementAndGet();
        }
    }

    /**
     * An ObjectMessage's object is not deserialized to be dead-lettered: Artemis trusts every class unless told otherwise,
     * and a 1.5 KB object of nested sets held an event consumer for 12 s of CPU (each level more doubled it).
     */
    @Test
    void anObjectMessageIsDeadLetteredWithoutItsObjectBeingDeserialized() throws Exception {
        String marker = marker();
        try (Connection connection = shared().connectionFactory().createConnection()) {
            Session session = connection.createSession(false, Session.AUTO_ACKNOWLEDGE);
            jakarta.jms.ObjectMessage message = session.createObjectMessage(new java.util.ArrayList<>(List.of(new Tripwire())));
            message.setStringProperty("test_marker", marker);
            session.createProducer(session.createQueue("agent.events")).send(message);
        }
        Message[] found = new Message[1];
        await().atMost(Duration.ofSeconds(10)).until(() -> {
            try (Connection connection = shared().connectionFactory().createConnection()) {
                connection.start();
                Session session = connection.createSession(false, Session.AUTO_ACKNOWLEDGE);
                try (QueueBrowser browser = session.createBrowser(session.createQueue(Endpoints.DEAD_LETTER_QUEUE),
                        "test_marker = '" + marker + "'")) {
                    List<?> letters = Collections.list(browser.getEnumeration());
                    found[0] = letters.isEmpty() ? null : (Message) letters.get(0);
                }
            }
            return found[0] != null;
        });
        assertThat(found[0].getStringProperty(EventRoutes.DEAD_LETTER_REASON)).contains("ObjectMessage");
        assertThat(Tripwire.READ.get()).as("objects deserialized").isZero();
    }

    private static String marker() {
        return "f-decode-" + UUID.randomUUID();
    }

    /** Browses the DLQ (others' dead letters stay there) until the message with this exact body shows up. */
    private static void assertDeadLettered(String body, String reasonPart) throws Exception {
        assertDeadLettered(body, Duration.ofSeconds(10), reasonPart);
    }

    private static void assertDeadLettered(String body, Duration within, String reasonPart) throws Exception {
        Message[] found = new Message[1];
        await().atMost(within).pollInterval(Duration.ofMillis(200)).until(() -> {
            found[0] = browse(body).orElse(null);
            return found[0] != null;
        });
        assertThat(((TextMessage) found[0]).getText()).isEqualTo(body);
        assertThat(found[0].getObjectProperty(EventRoutes.DEAD_LETTER_REASON)).isInstanceOf(String.class);
        assertThat(found[0].getStringProperty(EventRoutes.DEAD_LETTER_REASON)).contains(reasonPart);
        assertThat(query("SELECT 1 FROM agent_events WHERE payload::text LIKE ?", "%" + body + "%")).isEmpty();
    }

    private static Optional<Message> browse(String body) throws Exception {
        try (Connection connection = shared().connectionFactory().createConnection()) {
            connection.start();
            Session session = connection.createSession(false, Session.AUTO_ACKNOWLEDGE);
            try (QueueBrowser browser = session.createBrowser(session.createQueue(Endpoints.DEAD_LETTER_QUEUE))) {
                for (Object candidate : Collections.list(browser.getEnumeration())) {
                    if (candidate instanceof TextMessage text && body.equals(text.getText())) {
                        return Optional.of(text);
                    }
                }
            }
        }
        return Optional.empty();
    }
}
