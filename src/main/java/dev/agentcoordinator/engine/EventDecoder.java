package dev.agentcoordinator.engine;

import com.fasterxml.jackson.databind.JsonNode;
import dev.agentcoordinator.definition.WorkflowCatalog;
import dev.agentcoordinator.definition.WorkflowDefinition;
import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

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

    private final WorkflowCatalog catalog;
    private final int maxTokens;
    private final int maxBytes;

    public EventDecoder(WorkflowCatalog catalog, int maxTokens, int maxBytes) {
        this.catalog = catalog;
        this.maxTokens = maxTokens;
        this.maxBytes = maxBytes;
    }

    public void decode(Exchange exchange) {
        Message in = exchange.getMessage();
        JsonNode event = parse(textOf(in, maxBytes), maxTokens);
        JsonNode type = event.get("type");
        JsonNode payload = event.get("payload");
        String key = eventKey(event.get("event_id"), in.getHeader("JMSMessageID", String.class));
        in.setHeader(Headers.EVENT_TYPE, type.asText());
        in.setHeader(Headers.EVENT_KEY, key);
        in.setHeader(EVENT_PAYLOAD, payload == null || payload.isNull() ? "{}" : Json.write(payload));
        in.setHeader(EVENT_ROW_ID, UUID.randomUUID().toString());
        in.setHeader(ChainDepthGuard.CHAIN_CAUSE, ChainDepthGuard.causeOf(payload, key));
        // the routes that start it: its own, or those of the version a reload brought
        java.util.Optional<String> routeKey = catalog.routedByTrigger(type.asText()).map(WorkflowDefinition::id);
        in.setHeader(Headers.WORKFLOW_ID, routeKey.map(WorkflowCatalog::workflowIdOf).orElse(null));
        in.setHeader(Headers.ROUTE_KEY, routeKey.orElse(null));
        in.setBody(null); // decoded into headers (an invalid event was rejected above, message unchanged)
        IgnoredFields.EVENT.describe(event).ifPresent(ignored -> {
            if (ignored.misspelt()) {
                LOG.warn("Event {} of type {}: {}", LogText.oneLine(key), LogText.oneLine(type.asText()), LogText.oneLine(ignored.text()));
            } else {   // probably the sender's own metadata: not worth a WARN on every event
                LOG.debug("Event {} of type {}: {}", LogText.oneLine(key), LogText.oneLine(type.asText()), LogText.oneLine(ignored.text()));
            }
        });
    }

    /** The body's text: an event sent as bytes (a BytesMessage) that are not UTF-8 is refused, as over HTTP. */
    private static String textOf(Message in, int maxBytes) {
        try {
            return Utf8Text.of(in, maxBytes);
        } catch (IllegalArgumentException notText) {
            throw new InvalidEventException("event body is " + notText.getMessage());
        }
    }

    /** As {@link #parse(String, int)}, with the default bound on its tokens. */
    public static JsonNode parse(String text) {
        return parse(text, Json.DEFAULT_MAX_TOKENS);
    }

    /**
     * Parses and checks an event of at most {@code maxTokens} JSON tokens; the exception's message says what is wrong
     * with it (a {@link Json.TooManyTokensException} its cause when it has more tokens).
     */
    public static JsonNode parse(String text, int maxTokens) {
        if (text == null || text.isBlank()) {
            throw new InvalidEventException("event body is empty");
        }
        if (text.length() > Json.MAX_MESSAGE_CHARS) {
            throw new InvalidEventException(String.format(java.util.Locale.ROOT, "event is %,d characters long: at most %,d are read",
                    text.length(), Json.MAX_MESSAGE_CHARS));
        }
        JsonNode event;
        try {
            event = Json.parseStrict(text, maxTokens);   // {"type": "A", "type": "B"} names no one type
        } catch (Json.TooManyTokensException e) {
            throw new InvalidEventException(new Json.TooManyTokensException("event", maxTokens).getMessage(), e);
        } catch (IllegalArgumentException e) {
            throw new InvalidEventException("event is " + e.getMessage());   // "not valid JSON: <what, where>"
        }
        if (!event.isObject()) {
            throw new InvalidEventException("event must be a JSON object, got " + event.getNodeType().toString().toLowerCase());
        }
        JsonNode type = event.get("type");
        if (type == null || !type.isTextual() || type.asText().isBlank()) {
            throw new InvalidEventException("event field \"type\" must be a non-empty string"
                    + (type == null ? IgnoredFields.EVENT.standInFor(event, "type")
                       : type.isTextual() ? (type.asText().isEmpty() ? ", got an empty one" : ", got a blank one")
                       : ", got " + type.getNodeType().toString().toLowerCase(java.util.Locale.ROOT))
                    + (type == null && event.path("status").isTextual() && IgnoredFields.EVENT.standInFor(event, "type").isEmpty()
                       // {"status": "running"} or "ok": an agent's heartbeat or reply sent to the wrong queue
                       ? "; it looks like a step reply or heartbeat, which an agent sends to the queue its request's"
                         + " JMSReplyTo names, not to agent.events" : ""));
        }
        if (type.asText().length() > MAX_TYPE_LENGTH) {
            throw new InvalidEventException("event field \"type\" is longer than " + MAX_TYPE_LENGTH + " characters");
        }
        JsonNode payload = event.get("payload");
        if (payload != null && !payload.isNull() && !payload.isObject()) {
            throw new InvalidEventException("event field \"payload\" must be an object, got " + payload.getNodeType().toString().toLowerCase());
        }
        eventKey(event.get("event_id"), "check");
        String unstorable = Json.unstorable(event);
        if (unstorable != null) {
            throw new InvalidEventException("event " + unstorable);
        }
        return event;
    }

    private static String eventKey(JsonNode eventId, String messageId) {
        if (eventId != null && !eventId.isNull()) {
            if (!eventId.isTextual() && !eventId.isNumber()) {
                throw new InvalidEventException("event field \"event_id\" must be a string (or a number), got "
                        + eventId.getNodeType().toString().toLowerCase(java.util.Locale.ROOT));
            }
            String key = eventId.asText();
            if (key.isBlank() || key.length() > MAX_KEY_LENGTH) {
                throw new InvalidEventException("event field \"event_id\" must be 1 to " + MAX_KEY_LENGTH + " characters, not all blank"
                        + (key.isEmpty() ? ", got an empty one" : key.isBlank() ? ", got a blank one" : ", got " + key.length() + " characters"));
            }
            return key;
        }
        return messageId != null ? "jms:" + messageId : "generated:" + UUID.randomUUID();
    }
}
