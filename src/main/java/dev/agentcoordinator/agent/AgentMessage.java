package dev.agentcoordinator.agent;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A message from another agent (spec: sendAgentMessage), as the coordinator delivers it to
 * {@code agent.<to>} with JMS property {@code message_kind=agent_message}.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record AgentMessage(
        @JsonProperty("message_id") String messageId,
        @JsonProperty("from") String from,
        @JsonProperty("to") String to,
        @JsonProperty("type") String type,
        @JsonProperty("payload") Map<String, Object> payload,
        @JsonProperty("requires_response") boolean requiresResponse,
        @JsonProperty("execution_id") String executionId) {

    public AgentMessage {
        payload = payload == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(payload));
    }

    /** A payload value as text, or null when absent. */
    public String payloadString(String key) {
        Object value = payload.get(key);
        return value == null ? null : String.valueOf(value);
    }
}
