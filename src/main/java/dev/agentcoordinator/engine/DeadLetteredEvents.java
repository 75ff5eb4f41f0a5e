package dev.agentcoordinator.engine;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import jakarta.jms.BytesMessage;
import jakarta.jms.Connection;
import jakarta.jms.ConnectionFactory;
import jakarta.jms.InvalidDestinationException;
import jakarta.jms.JMSException;
import jakarta.jms.Message;
import jakarta.jms.MessageConsumer;
import jakarta.jms.MessageProducer;
import jakarta.jms.QueueBrowser;
import jakarta.jms.Session;
import jakarta.jms.TextMessage;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;

/**
 * The events on {@code agent.events.DLQ}, read without taking them off (a JMS queue browser): how a client
 * that was answered 202 learns why its event started nothing, without the broker's console. Each dead
 * letter is the event as it came, with its reason ({@link EventRoutes#DEAD_LETTER_REASON}) and, when its
 * body names one, its event_id ({@link #EVENT_ID_PROPERTY}), by which the broker finds it.
 */
public final class DeadLetteredEvents implements org.apache.camel.Service {
    /** Its name in the Camel registry. */
    public static final String REGISTRY_NAME = "deadLetteredEvents";
    /**
     * The dead letter's event_id, as a JMS property the broker can select on (a property of the sender's
     * own would not be the event's id). Dead letters of releases before it have none: they are listed,
     * but not found by their event_id.
     */
    public static final String EVENT_ID_PROPERTY = "dead_letter_event_id";

    /** One dead letter: the event's text as it came and what the coordinator read of it. */
    public record DeadLetter(String messageId, Instant deadLetteredAt, String reason, String eventId, String type, String body) {
        /** Its view, with at most {@code maxBody} characters of its body ({@code body_truncated} and {@code body_length} say when cut). */
        public ObjectNode toJson(int maxBody) {
            ObjectNode view = Json.object();
            view.put("message_id", messageId);
            view.put("dead_lettered_at", deadLetteredAt == null ? null : Json.time(deadLetteredAt));
            view.put("reason", reason);
            view.put("event_id", eventId);
            view.put("type", type);
            if (body != null && body.length() > maxBody) {
                view.put("body", body.substring(0, maxBody));
                view.put("body_truncated", true);
                view.put("body_length", body.length());
            } else {
                view.put("body", body);
            }
            return view;
        }
    }

    /**
     * Dead letters in the order they were dead-lettered; {@code more} when the queue holds more after them, and then
     * {@code next}, where the next page starts: the last one's time and message id, so that a page still follows
     * when that dead letter has been retried or discarded since.
     */
    public record Page(List<DeadLetter> deadLetters, boolean more) {
        public String next() {
            DeadLetter last = deadLetters.get(deadLetters.size() - 1);
            return (last.deadLetteredAt() == null ? 0 : last.deadLetteredAt().toEpochMilli()) + ":" + last.messageId();
        }
    }

    private final ConnectionFactory connectionFactory;

    /**
     * {@code connectionFactory} must bound its calls ({@link dev.agentcoordinator.infra.Messaging#boundedConnectionFactory}):
     * these are answers to a client, and a pooled connection's reconnection holds a call for the whole of an outage.
     */
    public DeadLetteredEvents(ConnectionFactory connectionFactory) {
        this.connectionFactory = connectionFactory;
    }

    /** One connection for every read and take (GET /api/events/{id} reads on each call), made again after it failed. */
    private Connection connection;

    /**
     * A session of its own for one read or take, on the shared connection; transacted for a take. A connection the
     * broker dropped (a restart its listener has not told of yet) is replaced once.
     */
    private Session session(boolean transacted) throws JMSException {
        int mode = transacted ? Session.SESSION_TRANSACTED : Session.AUTO_ACKNOWLEDGE;
        Connection shared = connection();
        try {
            return shared.createSession(transacted, mode);
        } catch (JMSException | RuntimeException stale) {
            forget(shared);
        }
        Connection fresh = connection();
        try {
            return fresh.createSession(transacted, mode);
        } catch (JMSException | RuntimeException failed) {
            forget(fresh);
            throw failed;
        }
    }

    private synchronized Connection connection() throws JMSException {
        if (connection == null) {
            Connection opened = connectionFactory.createConnection();
            try {
                opened.setExceptionListener(lost -> forget(opened));   // it does not reconnect: the next call opens another
                opened.start();
            } catch (JMSException | RuntimeException failed) {
                opened.close();
                throw failed;
            }
            connection = opened;
        }
        return connection;
    }

    private synchronized void forget(Connection lost) {
        if (connection == lost) {
            connection = null;
            try {
                lost.close();
            } catch (JMSException | RuntimeException alreadyGone) {
                // closed with the broker
            }
        }
    }

    @Override
    public void start() {
        // the connection opens with the first read
    }

    /** Closes the shared connection (the coordinator stops). */
    @Override
    public synchronized void stop() {
        if (connection != null) {
            forget(connection);
        }
    }

    /**
     * Up to {@code limit} dead letters, oldest first: every one, or those of one event_id ({@code eventId} not null),
     * after {@code after} (a {@link Page#next()}; null: from the first): after the dead letter it names, or, when that
     * one is gone, after its time.
     */
    public Page read(String eventId, String after, int limit) throws JMSException {
        String selector = eventId == null ? null : EVENT_ID_PROPERTY + " = '" + eventId.replace("'", "''") + "'";
        long afterTime = after == null ? Long.MIN_VALUE : cursorTime(after);
        String afterId = after == null ? null : after.substring(after.indexOf(':') + 1);
        List<DeadLetter> deadLetters = new ArrayList<>();
        boolean started = after == null;
        try (Session session = session(false)) {
            try (QueueBrowser browser = session.createBrowser(session.createQueue(Endpoints.DEAD_LETTER_QUEUE), selector)) {
                Enumeration<?> messages = browser.getEnumeration();
                while (messages.hasMoreElements()) {
                    Message message = (Message) messages.nextElement();
                    if (!started) {
                        // a dead letter sent without a JMSMessageID (straight to the DLQ over STOMP or AMQP) has none to compare
                        if (afterId.equals(message.getJMSMessageID())) {
                            started = true;
                            continue;
                        }
                        if (message.getJMSTimestamp() <= afterTime) {
                            continue;
                        }
                        started = true;
                    }
                    if (deadLetters.size() == limit) {
                        return new Page(deadLetters, true);
                    }
                    deadLetters.add(deadLetter(message));
                }
            }
        } catch (InvalidDestinationException noQueueYet) {
            // a standalone broker that does not create queues on demand, before the first dead letter
        }
        return new Page(deadLetters, false);
    }

    private static long cursorTime(String after) {
        int colon = after.indexOf(':');
        try {
            return Long.parseLong(after.substring(0, Math.max(0, colon)));
        } catch (NumberFormatException notACursor) {
            throw new IllegalArgumentException("after must be the \"next\" of an answer before (<time>:<message id>), got \""
                    + after + "\"");
        }
    }

    /** The dead letter of message id {@code messageId}, read and left there; empty when the DLQ holds none. */
    public Optional<DeadLetter> one(String messageId) throws JMSException {
        try (Session session = session(false)) {
            Optional<Message> found = browseFirst(session, byMessageId(messageId));
            return found.isPresent() ? Optional.of(deadLetter(found.get())) : Optional.empty();
        } catch (InvalidDestinationException noQueueYet) {
            return Optional.empty();
        }
    }

    private static String byMessageId(String messageId) {
        return "JMSMessageID = '" + messageId.replace("'", "''") + "'";
    }

    /** The first dead letter {@code selector} selects, read and left on the DLQ. */
    private static Optional<Message> browseFirst(Session session, String selector) throws JMSException {
        try (QueueBrowser browser = session.createBrowser(session.createQueue(Endpoints.DEAD_LETTER_QUEUE), selector)) {
            Enumeration<?> found = browser.getEnumeration();
            return found.hasMoreElements() ? Optional.of((Message) found.nextElement()) : Optional.empty();
        }
    }

    /**
     * Takes one dead letter ({@code messageId}, as listed) off the DLQ, in one transaction: back onto {@code agent.events}
     * as it came (without the dead letter's own properties) when {@code requeue}, for an event refused by a fault fixed
     * since; else discarded. When {@code keepBecause} names a reason for the dead letter's body (it would be refused
     * again), it is only read, not taken, and the answer carries that reason (a take rolled back would count as a
     * failed delivery, and the broker moves a message to DLA after ten). Empty when the DLQ holds no such message.
     */
    public Optional<Taken> take(String messageId, boolean requeue, Function<String, String> keepBecause) throws JMSException {
        try {
            return takeFrom(messageId, requeue, keepBecause);
        } catch (InvalidDestinationException noQueueYet) {   // a standalone broker before the first dead letter
            return Optional.empty();
        }
    }

    private Optional<Taken> takeFrom(String messageId, boolean requeue, Function<String, String> keepBecause) throws JMSException {
        String selector = byMessageId(messageId);
        try (Session session = session(true)) {
            Optional<Message> found = browseFirst(session, selector);
            if (found.isEmpty()) {
                return Optional.empty();
            }
            String kept = requeue ? unreadableAsAnEvent(found.get()) : null;
            if (kept == null) {
                kept = keepBecause.apply(text(found.get()));
            }
            if (kept != null) {
                return Optional.of(new Taken(deadLetter(found.get()), kept));
            }
            try (MessageConsumer consumer = session.createConsumer(session.createQueue(Endpoints.DEAD_LETTER_QUEUE), selector);
                 MessageProducer producer = session.createProducer(session.createQueue(Endpoints.EVENTS_QUEUE))) {
                Message message = consumer.receive(TAKE_WAIT_MS);
                if (message == null) {   // taken by another request since
                    return Optional.empty();
                }
                DeadLetter deadLetter = deadLetter(message);
                if (requeue) {
                    producer.send(asItCame(session, message, deadLetter.body()));
                }
                session.commit();
                return Optional.of(new Taken(deadLetter, null));
            }
        }
    }

    /**
     * The event of a dead letter as it came: its body (text as text, bytes as bytes), its sender's properties (not the
     * dead letter's), its JMS type and correlation id.
     */
    private static Message asItCame(Session session, Message deadLetter, String body) throws JMSException {
        Message event;
        if (deadLetter instanceof BytesMessage bytes) {
            BytesMessage copy = session.createBytesMessage();
            copy.writeBytes(bytesOf(bytes));
            event = copy;
        } else {
            event = session.createTextMessage(body);
        }
        event.setJMSType(deadLetter.getJMSType());
        event.setJMSCorrelationID(deadLetter.getJMSCorrelationID());
        for (Enumeration<?> names = deadLetter.getPropertyNames(); names.hasMoreElements(); ) {
            String name = (String) names.nextElement();
            if (!name.equals(EventRoutes.DEAD_LETTER_REASON) && !name.equals(EVENT_ID_PROPERTY)
                    && !name.startsWith("JMSX") && !name.startsWith("_AMQ")) {
                event.setObjectProperty(name, deadLetter.getObjectProperty(name));
            }
        }
        return event;
    }

    /** A dead letter taken off the DLQ, or left there {@code keptBecause} (null when it was taken). */
    public record Taken(DeadLetter deadLetter, String keptBecause) {
    }

    /** How long a take waits for the dead letter it names (it is on the queue, or it is not). */
    private static final long TAKE_WAIT_MS = 2_000;

    private static DeadLetter deadLetter(Message message) throws JMSException {
        String body = text(message);
        Optional<JsonNode> event = object(body);
        String eventId = message.getStringProperty(EVENT_ID_PROPERTY);
        if (eventId == null) {
            eventId = event.flatMap(DeadLetteredEvents::eventIdOf).orElse(null);
        }
        String type = event.map(e -> e.get("type")).filter(JsonNode::isTextual).map(JsonNode::asText).orElse(null);
        Object reason = message.getObjectProperty(EventRoutes.DEAD_LETTER_REASON);
        long timestamp = message.getJMSTimestamp();
        return new DeadLetter(message.getJMSMessageID(), timestamp == 0 ? null : Instant.ofEpochMilli(timestamp),
                reason == null ? null : reason.toString(), eventId, type, body);
    }

    /**
     * Why a dead letter put back as it is would be refused again before its text is read, as the events route refuses it:
     * a message that is not text, or bytes that are not UTF-8 (its view shows them decoded with U+FFFD); else null.
     */
    private static String unreadableAsAnEvent(Message message) throws JMSException {
        if (!(message instanceof TextMessage) && !(message instanceof BytesMessage)) {
            return "it is not a TextMessage or a BytesMessage (an event is JSON text)";
        }
        if (message instanceof BytesMessage bytes) {
            try {
                Utf8Text.decode(bytesOf(bytes));
            } catch (IllegalArgumentException notUtf8) {
                return "event body is " + notUtf8.getMessage();
            }
        }
        return null;
    }

    private static String text(Message message) throws JMSException {
        if (message instanceof TextMessage text) {
            return text.getText();
        }
        if (message instanceof BytesMessage bytes) {   // STOMP with content-length: UTF-8, as the events route reads it
            return new String(bytesOf(bytes), StandardCharsets.UTF_8);
        }
        return null;
    }

    /** A bytes message's whole body, however much of it was read before. */
    private static byte[] bytesOf(BytesMessage message) throws JMSException {
        message.reset();
        byte[] content = new byte[(int) message.getBodyLength()];
        message.readBytes(content);
        return content;
    }

    /** The event_id an event's body names: its {@code event_id}, when that is a string or a number. */
    public static Optional<String> eventIdOf(String body) {
        return object(body).flatMap(DeadLetteredEvents::eventIdOf);
    }

    private static Optional<String> eventIdOf(JsonNode event) {
        JsonNode id = event.get("event_id");
        return id != null && (id.isTextual() || id.isNumber()) ? Optional.of(id.asText()) : Optional.empty();
    }

    private static Optional<JsonNode> object(String body) {
        if (body == null || body.isBlank()) {
            return Optional.empty();
        }
        try {
            JsonNode parsed = Json.parse(body);
            return parsed.isObject() ? Optional.of(parsed) : Optional.empty();
        } catch (IllegalArgumentException notJson) {
            return Optional.empty();
        }
    }
}
