package dev.agentcoordinator.agent;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/** The JSON wire format of step requests and replies (CONTRACT.md section 2). */
final class AgentMessages {

    /** Writes, and reads the coordinator's small answers to heartbeats; requests are read with the service's bound. */
    private static final ObjectMapper JSON = JsonTokenBound.DEFAULT.mapper();

    private AgentMessages() {
    }

    static AgentRequest parseRequest(String body) throws MalformedRequestException {
        return parseRequest(body, JsonTokenBound.DEFAULT);
    }

    static AgentRequest parseRequest(String body, JsonTokenBound bound) throws MalformedRequestException {
        if (body == null || body.isBlank()) {
            throw new MalformedRequestException("request body is empty", null);
        }
        AgentRequest request;
        try {
            request = bound.mapper().readValue(body, AgentRequest.class);
        } catch (JsonProcessingException e) {
            String tooMany = bound.tooManyTokens("request", e);
            throw new MalformedRequestException(tooMany != null ? tooMany : "request body is not a valid step request JSON object: "
                    + e.getOriginalMessage(), e);
        }
        if (request == null || request.action() == null || request.action().isBlank()) {
            throw new MalformedRequestException("request has no 'action'", null);
        }
        return request;
    }

    /**
     * The reason of the coordinator's answer to a heartbeat, {@code {"status": "stop", "reason": …}};
     * null for anything else, unreadable JSON included.
     */
    static String stopReason(String body) {
        try {
            JsonNode answer = body == null ? null : JSON.readTree(body);
            if (answer == null || !"stop".equals(answer.path("status").asText())) {
                return null;
            }
            return answer.path("reason").asText("the coordinator stopped the attempt");
        } catch (JsonProcessingException e) {
            return null;
        }
    }

    /** Whether a stop asks for the handler's reply all the same ({@code "reply_wanted": true}: an undo waits for it). */
    static boolean stopWantsReply(String body) {
        try {
            return body != null && JSON.readTree(body).path("reply_wanted").asBoolean(false);
        } catch (JsonProcessingException e) {
            return false;
        }
    }

    /** A heartbeat, {@code {"status": "running"}}, with the handler's latest progress (JSON text) when it reported some. */
    static String heartbeat(String progressJson) {
        ObjectNode body = JSON.createObjectNode();
        body.put("status", "running");
        if (progressJson != null) {
            body.putRawValue("progress", new com.fasterxml.jackson.databind.util.RawValue(progressJson));
        }
        return body.toString();
    }

    /** A handler's progress report as JSON text; IllegalArgumentException when Jackson cannot write it. */
    static String progressJson(Object progress) {
        try {
            return JSON.writeValueAsString(progress);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("progress cannot be written as JSON: " + e.getOriginalMessage(), e);
        }
    }

    static String render(AgentReply reply) {
        return render(reply, null);
    }

    /** As {@link #render(AgentReply)}, an error reply with the handler's latest progress (JSON text) when it has some. */
    static String render(AgentReply reply, String progressJson) {
        ObjectNode body = JSON.createObjectNode();
        body.put("status", reply.status());
        if (reply.isOk()) {
            body.set("output", JSON.valueToTree(reply.output()));
            if (!reply.signals().isEmpty()) {
                ArrayNode signals = body.putArray("signals");
                for (AgentReply.Signal signal : reply.signals()) {
                    ObjectNode node = signals.addObject();
                    node.put("signal_type", signal.signalType());
                    node.set("data", JSON.valueToTree(signal.data()));
                }
            }
            if (!reply.sharedMemory().isEmpty()) {
                body.set("shared_memory", JSON.valueToTree(reply.sharedMemory()));
            }
        } else {
            body.put("error", reply.error());
            body.put("retryable", reply.retryable());
            if (progressJson != null) {
                body.putRawValue("progress", new com.fasterxml.jackson.databind.util.RawValue(progressJson));
            }
        }
        try {
            return JSON.writeValueAsString(body);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot render reply " + reply, e);
        }
    }
}
