package dev.agentcoordinator.agent;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A message from another agent (spec: sendAgentMessage), as the coordinator delivers it to
 * {@code agent.<to>} with JMS property {@code message_kind=agent_message}. Its payload may be any JSON
 * ({@link #payloadJson}); {@link #payload} is the payload when it is an object, and empty otherwise.
 */
public record AgentMessage(
        String messageId,
        String from,
        String to,
        String type,
        Map<String, Object> payload,
        boolean requiresResponse,
        String executionId,
        JsonNode payloadJson) {
    public AgentMessage {
        payload = payload == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(payload));
        payloadJson = payloadJson != null ? payloadJson : AgentMessageWire.JSON.valueToTree(payload);
    }

    /** A message whose payload is an object. */
    public AgentMessage(String messageId, String from, String to, String type, Map<String, Object> payload,
                        boolean requiresResponse, String executionId) {
        this(messageId, from, to, type, payload, requiresResponse, executionId, null);
    }

    /** A payload value as text, or null when absent. */
    public String payloadString(String key) {
        Object value = payload.get(key);
        return value == null ? null : String.valueOf(value);
    }
}
