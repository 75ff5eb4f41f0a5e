package dev.agentcoordinator.messages;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.agentcoordinator.engine.IgnoredFields;
import dev.agentcoordinator.engine.Json;
import dev.agentcoordinator.engine.Utf8Text;
import org.apache.camel.Exchange;
import org.apache.camel.Message;

import java.util.Map;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * The coordinator's side of the agent message format (docs/agent-protocol.md, "Agent-to-agent
 * messages"): checks what a sender sends, and writes what recipient and sender receive.
 */
public final class AgentMessageCodec {
    /** JMS property on a message delivered to {@code agent.<to>} that is not a step request. */
    public static final String KIND_PROPERTY = "message_kind";
    public static final String KIND_AGENT_MESSAGE = "agent_message";
    /** Camel JMS: send to this destination instead of the endpoint's. */
    static final String DESTINATION = "CamelJmsDestinationName";

    static final String MESSAGE_ID = "messageId";
    /**
     * Whether the broker delivers the message or response again (JMSRedelivered): the delivery before
     * may have committed its row to PostgreSQL and then lost its send with the JMS transaction.
     */
    static final String REDELIVERY = "redelivery";
    /** The JMS message id of the delivery that stores a message (V31): the same one coming back is a redelivery. */
    static final String ACCEPTED_BY = "acceptedBy";
    /** The message's fields it does not have ({@link IgnoredFields.Ignored}), or null: named to whoever sent it. */
    public static final String IGNORED_FIELDS = "ignoredFields";
    /** Why a body sent as a message's response is none (a heartbeat), else absent: it is logged and dropped. */
    static final String NOT_A_RESPONSE = "notAResponse";
    /** The JMS message id of the delivery that records a response (V31). */
    static final String RESPONDED_BY = "respondedBy";
    static final String TO_AGENT = "toAgent";
    static final String REPLY_TO = "replyTo";

    private static final Pattern AGENT_NAME = Pattern.compile("[a-z][a-z0-9_-]{0,99}");
    private static final long MAX_TIMEOUT_MS = 86_400_000;

    private AgentMessageCodec() {
    }

    /** agent_messages.reply_to and agent_messages.correlation_id are varchar(255). */
    static final int MAX_HEADER_LENGTH = 255;

    /**
     * Checks the message body and puts its fields into the headers store-agent-message.sql reads.
     * {@code replyTo} / {@code correlationId}: where the sender wants the response (JMS), or null.
     * Header {@code timeoutMs} stays null when the message does not set {@code timeout_ms}.
     */
    public static void accept(Message in, String replyTo, String correlationId) {
        accept(in, replyTo, correlationId, Json.DEFAULT_MAX_TOKENS);
    }

    /**
     * As {@link #accept(Message, String, String)}, reading at most {@code maxTokens} JSON tokens of the body
     * (coordinator.input.max-json-tokens), and refusing a key given twice, as an event's: parsed unbounded, a few MB of
     * keys or zeros from an agent built a tree of hundreds of MB.
     */
    public static void accept(Message in, String replyTo, String correlationId, int maxTokens) {
        accept(in, replyTo, correlationId, maxTokens, Utf8Text.DEFAULT_MAX_BYTES);
    }

    /** As {@link #accept(Message, String, String, int)}, a body of more than {@code maxBytes} refused unread. */
    public static void accept(Message in, String replyTo, String correlationId, int maxTokens, int maxBytes) {
        JsonNode body;
        try {
            body = Json.parseStrict(Utf8Text.of(in, maxBytes), maxTokens);
        } catch (Utf8Text.TooManyBytesException e) {
            Utf8Text.dropUnreadBody(in.getExchange());
            throw new InvalidAgentMessageException("agent message is " + e.getMessage());
        } catch (Json.TooManyTokensException e) {
            throw new InvalidAgentMessageException(new Json.TooManyTokensException("agent message", maxTokens).getMessage());
        } catch (IllegalArgumentException e) {
            throw new InvalidAgentMessageException("agent message is " + e.getMessage());
        }
        if (!body.isObject()) {
            throw new InvalidAgentMessageException("agent message must be a JSON object, got " + body.getNodeType());
        }
        String unstorable = Json.unstorable(body);
        if (unstorable != null) {
            throw new InvalidAgentMessageException("agent message " + unstorable);
        }
        // agent_messages.reply_to and correlation_id are varchar(255): a longer one failed the INSERT, and the message
        // went round the broker's redeliveries to DLA with the sender never told
        if (replyTo != null && replyTo.length() > MAX_HEADER_LENGTH) {
            throw new InvalidAgentMessageException("agent message JMSReplyTo is " + replyTo.length() + " characters long, at most "
                    + MAX_HEADER_LENGTH);
        }
        if (correlationId != null && correlationId.length() > MAX_HEADER_LENGTH) {
            throw new InvalidAgentMessageException("agent message JMSCorrelationID is " + correlationId.length()
                    + " characters long, at most " + MAX_HEADER_LENGTH + " (send the message_id as its correlation id)");
        }
        String from = agentName(body, "from");
        String to = agentName(body, "to");
        String type = text(body, "type", 200, true);
        String messageId = text(body, "message_id", 36, false);
        String executionId = text(body, "execution_id", 36, false);
        JsonNode requires = body.path("requires_response");
        if (!requires.isMissingNode() && !requires.isNull() && !requires.isBoolean()) {
            throw new InvalidAgentMessageException("agent message field requires_response must be true or false");
        }
        JsonNode timeout = body.path("timeout_ms");
        if (!timeout.isMissingNode() && !timeout.isNull()
                && (!timeout.canConvertToLong() || timeout.asLong() <= 0 || timeout.asLong() > MAX_TIMEOUT_MS)) {
            throw new InvalidAgentMessageException("agent message field timeout_ms must be a number of milliseconds between 1 and "
                    + MAX_TIMEOUT_MS + ", was " + timeout);
        }
        JsonNode payload = body.path("payload");
        IgnoredFields.Ignored ignored = IgnoredFields.MESSAGE.describe(body).orElse(null);
        in.removeHeaders("*");
        in.setHeader(IGNORED_FIELDS, ignored);
        in.setHeader(MESSAGE_ID, messageId != null ? messageId : UUID.randomUUID().toString());
        in.setHeader("fromAgent", from);
        in.setHeader(TO_AGENT, to);
        in.setHeader("messageType", type);
        in.setHeader("messagePayload", payload.isMissingNode() ? "{}" : Json.write(payload));
        in.setHeader("requiresResponse", requires.asBoolean(false));
        in.setHeader("timeoutMs", timeout.canConvertToLong() ? timeout.asLong() : null);
        in.setHeader(REPLY_TO, replyTo);
        in.setHeader("correlationId", correlationId);
        in.setHeader("messageExecutionId", executionId);
        in.setBody(null);
    }

    /** The message as its recipient gets it on {@code agent.<to>}, with the JMS headers that go with it. */
    public static void toDelivery(Exchange exchange, String responseQueue) {
        Message in = exchange.getMessage();
        String messageId = in.getHeader(MESSAGE_ID, String.class);
        boolean requiresResponse = in.getHeader("requiresResponse", Boolean.class);
        ObjectNode body = Json.object();
        body.put("message_id", messageId);
        body.put("from", in.getHeader("fromAgent", String.class));
        body.put("to", in.getHeader(TO_AGENT, String.class));
        body.put("type", in.getHeader("messageType", String.class));
        body.set("payload", Json.parse(in.getHeader("messagePayload", String.class)));
        body.put("requires_response", requiresResponse);
        if (in.getHeader("messageExecutionId") != null) {
            body.put("execution_id", in.getHeader("messageExecutionId", String.class));
        }
        String to = in.getHeader(TO_AGENT, String.class);
        // the stored row (store-agent-message.sql): a question nobody waits for any more is not handed to its
        // recipient later (an agent started after its sender gave up, or a name nobody consumes); the broker
        // moves it to its expiry address
        Object expiresIn = in.getBody() instanceof java.util.Map<?, ?> row ? row.get("expires_in_ms") : null;
        in.removeHeaders("*");
        if (requiresResponse && expiresIn instanceof Number left) {
            // absolute, as JMS has it, on this JVM's clock (Camel turns it into a time to live again)
            in.setHeader("JMSExpiration", System.currentTimeMillis() + Math.max(1, left.longValue()));
        }
        in.setHeader(DESTINATION, "agent." + to);
        in.setHeader(KIND_PROPERTY, KIND_AGENT_MESSAGE);
        in.setHeader("JMSCorrelationID", messageId);
        in.setHeader("JMSDeliveryMode", jakarta.jms.DeliveryMode.PERSISTENT);
        if (requiresResponse) {
            in.setHeader("JMSReplyTo", responseQueue);
        }
        in.setHeader(MESSAGE_ID, messageId);
        in.setBody(Json.write(body));
    }

    /** A recipient's response as stored: JSON as sent, or an error when it is not JSON. */
    public static void readResponse(Exchange exchange) {
        readResponse(exchange, Json.DEFAULT_MAX_TOKENS);
    }

    /** As {@link #readResponse(Exchange)}, a response of more than {@code maxTokens} JSON tokens stored as an error naming the bound. */
    public static void readResponse(Exchange exchange, int maxTokens) {
        readResponse(exchange, maxTokens, Utf8Text.DEFAULT_MAX_BYTES);
    }

    /** As {@link #readResponse(Exchange, int)}, a body of more than {@code maxBytes} stored as an error, unread. */
    public static void readResponse(Exchange exchange, int maxTokens, int maxBytes) {
        String stored;
        String notAResponse = null;
        Message in = exchange.getMessage();
        try {
            Utf8Text.refuseIfLonger(in, maxBytes);
            JsonNode response = Json.parseStrict(Utf8Text.of(in, maxBytes), maxTokens);
            String status = response.path("status").asText(null);
            if (status != null && !"ok".equals(status) && !"error".equals(status)) {
                // a heartbeat ("running") of a recipient that took the message for a step request
                notAResponse = "its status is \"" + status + "\", a response's is \"ok\" or \"error\"";
            }
            String unstorable = Json.unstorable(response);
            stored = unstorable != null ? Json.write(Map.of("status", "error", "error", "the recipient's response " + unstorable))
                    : Json.write(response);
        } catch (Utf8Text.TooManyBytesException e) {
            Utf8Text.dropUnreadBody(exchange);
            in = exchange.getMessage();
            stored = Json.write(Map.of("status", "error", "error", "the recipient's response is " + e.getMessage()));
        } catch (Json.TooManyTokensException e) {
            stored = Json.write(Map.of("status", "error", "error",
                    new Json.TooManyTokensException("the recipient's response", maxTokens).getMessage()));
        } catch (IllegalArgumentException e) {
            stored = Json.write(Map.of("status", "error", "error", "the recipient's response is " + e.getMessage()));
        }
        String messageId = in.getHeader("JMSCorrelationID", String.class);
        boolean redelivery = Boolean.TRUE.equals(in.getHeader("JMSRedelivered", Boolean.class));
        String respondedBy = dev.agentcoordinator.engine.ConsumedMessageId.of(in);
        in.removeHeaders("*");
        in.setHeader(MESSAGE_ID, messageId);
        in.setHeader(REDELIVERY, redelivery);
        in.setHeader(RESPONDED_BY, respondedBy);
        in.setHeader(NOT_A_RESPONSE, notAResponse);
        in.setHeader("messageResponse", stored);
        in.setBody(null);
    }

    /** What the sender receives once the recipient answered: {@code {"message_id","status":"responded","from","type","response"}}. */
    @SuppressWarnings("unchecked")
    public static void toSenderResponse(Exchange exchange) {
        Message in = exchange.getMessage();
        Map<String, Object> row = in.getBody(Map.class);
        ObjectNode body = Json.object();
        body.put("message_id", (String) row.get("id"));
        body.put("status", "responded");
        body.put("from", (String) row.get("to_agent"));
        body.put("type", (String) row.get("message_type"));
        body.set("response", Json.parse(in.getHeader("messageResponse", String.class)));
        toSender(in, row, body);
    }

    /** What the sender receives when no response came in time: {@code {"message_id","status":"timed_out"}}. */
    @SuppressWarnings("unchecked")
    public static void toTimeoutNotice(Exchange exchange) {
        Message in = exchange.getMessage();
        Map<String, Object> row = in.getBody(Map.class);
        ObjectNode body = Json.object();
        body.put("message_id", (String) row.get("id"));
        body.put("status", "timed_out");
        body.put("to", (String) row.get("to_agent"));
        body.put("type", (String) row.get("message_type"));
        toSender(in, row, body);
    }

    /** What a sender whose message was refused receives (when it gave a reply destination). */
    public static void toRejection(Exchange exchange, String replyTo, String correlationId, String error) {
        Message in = exchange.getMessage();
        in.removeHeaders("*");
        in.setHeader(DESTINATION, replyTo);
        if (correlationId != null) {
            in.setHeader("JMSCorrelationID", correlationId);
        }
        in.setBody(Json.write(Map.of("status", "rejected", "error", error)));
    }

    private static void toSender(Message in, Map<String, Object> row, ObjectNode body) {
        in.removeHeaders("*");
        in.setHeader(MESSAGE_ID, row.get("id"));
        if (row.get("reply_to") != null) {
            in.setHeader(DESTINATION, row.get("reply_to"));
            in.setHeader("JMSCorrelationID", row.get("correlation_id") != null ? row.get("correlation_id") : row.get("id"));
        }
        in.setBody(Json.write(body));
    }

    private static String agentName(JsonNode body, String field) {
        String name = text(body, field, 100, true);
        if (!AGENT_NAME.matcher(name).matches()) {
            throw new InvalidAgentMessageException("agent message field " + field + " \"" + name
                    + "\" is not an agent name ([a-z][a-z0-9_-]*, at most 100 characters)");
        }
        if (dev.agentcoordinator.definition.AgentNames.RESERVED.contains(name)) {
            throw new InvalidAgentMessageException("agent message field " + field + " \"" + name + "\" is reserved: agent."
                    + name + " is the coordinator's own queue, no agent's");
        }
        return name;
    }

    private static String text(JsonNode body, String field, int maxLength, boolean required) {
        JsonNode node = body.path(field);
        if (node.isMissingNode() || node.isNull()) {
            if (required) {
                throw new InvalidAgentMessageException("agent message field " + field + " is required");
            }
            return null;
        }
        if (!node.isTextual() || node.asText().isBlank()) {
            throw new InvalidAgentMessageException("agent message field " + field + " must be non-empty text");
        }
        if (node.asText().length() > maxLength) {
            throw new InvalidAgentMessageException("agent message field " + field + " is longer than " + maxLength + " characters");
        }
        return node.asText();
    }
}
