package dev.agentcoordinator.agent;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import jakarta.jms.JMSException;
import jakarta.jms.Message;

import java.util.Map;

/** The JSON wire format of agent-to-agent messages (docs/agent-protocol.md, "Agent-to-agent messages"). */
final class AgentMessageWire {
    /** JMS property that marks a delivered agent message on {@code agent.<name>}. */
    static final String KIND_PROPERTY = "message_kind";
    static final String KIND_AGENT_MESSAGE = "agent_message";
    /** The coordinator's queue for messages between agents. */
    static final String QUEUE = "agent.messages";

    /** Writes; a message or response is read with its service's or messenger's bound. */
    static final ObjectMapper JSON = JsonTokenBound.DEFAULT.mapper();

    private AgentMessageWire() {
    }

    /**
     * Whether the message is marked an agent message; one whose mark is not text (bytes, as an AMQP or core client can
     * set it) is not: the MessageFormatException, taken by the worker for a broken connection, left it unanswered.
     */
    static boolean isAgentMessage(Message message) throws JMSException {
        try {
            return KIND_AGENT_MESSAGE.equals(message.getStringProperty(KIND_PROPERTY));
        } catch (jakarta.jms.MessageFormatException notText) {
            return false;
        }
    }

    /** The message as delivered; its payload may be any JSON (only an object also reads as a map). */
    static AgentMessage parse(String body) throws MalformedRequestException {
        return parse(body, JsonTokenBound.DEFAULT);
    }

    /** As {@link #parse(String)}, reading at most the bound's tokens. */
    @SuppressWarnings("unchecked")
    static AgentMessage parse(String body, JsonTokenBound bound) throws MalformedRequestException {
        ObjectMapper json = bound.mapper();
        if (body == null || body.isBlank()) {   // Jackson throws IllegalArgumentException on null: rolled back again and again
            throw new MalformedRequestException("agent message body is empty", null);
        }
        try {
            JsonNode message = json.readTree(body);
            if (message == null || !message.isObject()) {
                throw new MalformedRequestException("agent message is not a JSON object", null);
            }
            if (!message.path("type").isTextual()) {
                throw new MalformedRequestException("agent message has no 'type'", null);
            }
            JsonNode payload = message.get("payload");
            Map<String, Object> fields = payload != null && payload.isObject() ? json.convertValue(payload, Map.class) : Map.of();
            return new AgentMessage(text(message, "message_id"), text(message, "from"), text(message, "to"),
                    message.path("type").asText(), fields, message.path("requires_response").asBoolean(false),
                    text(message, "execution_id"), payload == null ? JSON.nullNode() : payload);
        } catch (JsonProcessingException e) {
            String tooMany = bound.tooManyTokens("agent message", e);
            throw new MalformedRequestException(tooMany != null ? tooMany : "agent message is not valid JSON: " + e.getOriginalMessage(), e);
        }
    }

    /** What a sender puts on {@code agent.messages}. */
    static String outgoing(String messageId, String from, String to, String type, Object payload,
                           boolean requiresResponse, Long timeoutMs) {
        ObjectNode body = JSON.createObjectNode();
        body.put("message_id", messageId);
        body.put("from", from);
        body.put("to", to);
        body.put("type", type);
        body.set("payload", payload == null ? JSON.createObjectNode() : JSON.valueToTree(payload));
        body.put("requires_response", requiresResponse);
        if (timeoutMs != null) {
            body.put("timeout_ms", timeoutMs);
        }
        return write(body);
    }

    /** The recipient's response: {@code {"status":"ok","payload":…}}. */
    static String ok(Object payload) {
        ObjectNode body = JSON.createObjectNode();
        body.put("status", "ok");
        body.set("payload", payload == null ? JSON.createObjectNode() : JSON.valueToTree(payload));
        return write(body);
    }

    /** The recipient's response when its handler failed: {@code {"status":"error","error":…}}. */
    static String error(String error) {
        ObjectNode body = JSON.createObjectNode();
        body.put("status", "error");
        body.put("error", error);
        return write(body);
    }

    private static String text(JsonNode message, String field) {
        JsonNode value = message.get(field);
        return value == null || value.isNull() ? null : value.asText();
    }

    private static String write(JsonNode body) {
        try {
            return JSON.writeValueAsString(body);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write agent message JSON", e);
        }
    }
}
