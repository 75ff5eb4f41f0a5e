package dev.agentcoordinator.engine;

import com.fasterxml.jackson.databind.JsonNode;
import dev.agentcoordinator.definition.WorkflowCatalog;
import dev.agentcoordinator.definition.WorkflowDefinition;
import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.apache.commons.text.similarity.LevenshteinDistance;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/**
 * Decodes an event from {@code agent.events}: {@code {"type", "payload", "event_id"}}. Sets the
 * event key (event_id, else the JMS message id) and the workflow its type triggers, if any.
 */
public final class EventDecoder {
    public static final String EVENT_PAYLOAD = "eventPayload";
    public static final String EVENT_ROW_ID = "eventRowId";
    private static final int MAX_TYPE_LENGTH = dev.agentcoordinator.definition.WorkflowDefinition.MAX_EVENT_TYPE_LENGTH;
    private static final int MAX_KEY_LENGTH = 255;
    private static final Logger LOG = LoggerFactory.getLogger(EventDecoder.class);
    /** The fields of an event (CONTRACT.md); any other is ignored, and said to be. */
    private static final List<String> FIELDS = List.of("type", "payload", "event_id");

    private final WorkflowCatalog catalog;

    public EventDecoder(WorkflowCatalog catalog) {
        this.catalog = catalog;
    }

    public void decode(Exchange exchange) {
        Message in = exchange.getMessage();
        JsonNode event = parse(in.getBody(String.class));
        JsonNode type = event.get("type");
        JsonNode payload = event.get("payload");
        String key = eventKey(event.get("event_id"), in.getHeader("JMSMessageID", String.class));
        in.setHeader(Headers.EVENT_TYPE, type.asText());
        in.setHeader(Headers.EVENT_KEY, key);
        in.setHeader(EVENT_PAYLOAD, payload == null || payload.isNull() ? "{}" : Json.write(payload));
        in.setHeader(EVENT_ROW_ID, UUID.randomUUID().toString());
        in.setHeader(Headers.WORKFLOW_ID, catalog.byTrigger(type.asText()).map(WorkflowDefinition::id).orElse(null));
        in.setBody(null); // decoded into headers (an invalid event was rejected above, message unchanged)
        ignoredFields(event).ifPresent(ignored -> LOG.warn("Event {} of type {}: {}", key, type.asText(), ignored));
    }

    /**
     * What an event carries besides its three fields, said in words, or empty. Such fields are not stored,
     * and a misspelt {@code "payloads"} would otherwise start its workflow on an empty payload without a
     * word; they are still accepted, so that senders adding their own metadata keep working.
     */
    public static Optional<String> ignoredFields(JsonNode event) {
        List<String> ignored = null;
        for (var names = event.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!FIELDS.contains(name)) {
                (ignored == null ? ignored = new ArrayList<>() : ignored).add(name);
            }
        }
        if (ignored == null) {
            return Optional.empty();
        }
        StringBuilder said = new StringBuilder("event field").append(ignored.size() == 1 ? " " : "s ");
        for (int i = 0; i < ignored.size(); i++) {
            said.append(i == 0 ? "" : i == ignored.size() - 1 ? " and " : ", ").append('"').append(ignored.get(i)).append('"');
        }
        said.append(ignored.size() == 1 ? " is" : " are").append(" ignored (an event has \"type\", \"payload\" and \"event_id\")");
        LevenshteinDistance distance = new LevenshteinDistance(3);
        for (String field : ignored) {
            for (String known : FIELDS) {
                if (!event.has(known) && distance.apply(field.toLowerCase(java.util.Locale.ROOT), known) >= 0) {
                    said.append(": did you mean \"").append(known).append("\" for \"").append(field).append("\"?");
                    return Optional.of(said.toString());
                }
            }
        }
        return Optional.of(said.toString());
    }

    /** Parses and checks an event; the exception's message says what is wrong with it. */
    public static JsonNode parse(String text) {
        if (text == null || text.isBlank()) {
            throw new InvalidEventException("event body is empty");
        }
        JsonNode event;
        try {
            event = Json.parse(text);
        } catch (IllegalArgumentException e) {
            throw new InvalidEventException("event is " + e.getMessage());   // "not valid JSON: <what, where>"
        }
        if (!event.isObject()) {
            throw new InvalidEventException("event must be a JSON object, got " + event.getNodeType().toString().toLowerCase());
        }
        JsonNode type = event.get("type");
        if (type == null || !type.isTextual() || type.asText().isBlank()) {
            throw new InvalidEventException("event field \"type\" must be a non-empty string");
        }
        if (type.asText().length() > MAX_TYPE_LENGTH) {
            throw new InvalidEventException("event field \"type\" is longer than " + MAX_TYPE_LENGTH + " characters");
        }
        JsonNode payload = event.get("payload");
        if (payload != null && !payload.isNull() && !payload.isObject()) {
            throw new InvalidEventException("event field \"payload\" must be an object, got " + payload.getNodeType().toString().toLowerCase());
        }
        eventKey(event.get("event_id"), "check");
        if (Json.containsNul(event)) {
            throw new InvalidEventException("event contains the character U+0000 (\\u0000), which PostgreSQL cannot store");
        }
        return event;
    }

    private static String eventKey(JsonNode eventId, String messageId) {
        if (eventId != null && !eventId.isNull()) {
            if (!eventId.isTextual() && !eventId.isNumber()) {
                throw new InvalidEventException("event field \"event_id\" must be a string");
            }
            String key = eventId.asText();
            if (key.isBlank() || key.length() > MAX_KEY_LENGTH) {
                throw new InvalidEventException("event field \"event_id\" must be 1 to " + MAX_KEY_LENGTH + " characters");
            }
            return key;
        }
        return messageId != null ? "jms:" + messageId : "generated:" + UUID.randomUUID();
    }
}
