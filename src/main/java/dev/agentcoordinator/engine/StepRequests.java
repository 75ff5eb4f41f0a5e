package dev.agentcoordinator.engine;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.camel.Exchange;
import org.apache.camel.Message;

import java.sql.Timestamp;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.Map;

/**
 * Builds the step request of CONTRACT.md section 2 from the headers of a dispatch and leaves only
 * the JMS headers an agent needs on the message.
 */
public final class StepRequests {

    private StepRequests() {
    }

    /** Correlation id of one attempt of one step row: the reply names exactly what it answers. */
    public static String correlationId(String rowId, int attempt) {
        return rowId + ":" + attempt;
    }

    /** Splits a correlation id back into row id and attempt; null when it is not one of ours. */
    public static Map.Entry<String, Integer> parseCorrelationId(String correlationId) {
        if (correlationId == null) {
            return null;
        }
        int colon = correlationId.lastIndexOf(':');
        if (colon <= 0) {
            return null;
        }
        try {
            return Map.entry(correlationId.substring(0, colon), Integer.parseInt(correlationId.substring(colon + 1)));
        } catch (NumberFormatException e) {
            return null;
        }
    }

    /**
     * Replaces the message with the request for the attempt described by the headers. JMSReplyTo
     * names the durable reply queue; the endpoint must use preserveMessageQos so Camel keeps it on
     * an InOnly send instead of waiting for the reply itself.
     */
    public static void build(Exchange exchange, String replyQueue) {
        Message in = exchange.getMessage();
        int attempt = in.getHeader(Headers.ATTEMPT, Integer.class);
        ObjectNode request = Json.object();
        request.put("execution_id", in.getHeader(Headers.EXECUTION_ID, String.class));
        request.put("workflow_id", in.getHeader(Headers.WORKFLOW_ID, String.class));
        request.put("step_id", in.getHeader(Headers.STEP_ID, String.class));
        request.put("agent", in.getHeader(Headers.AGENT, String.class));
        request.put("action", in.getHeader(Headers.ACTION, String.class));
        request.put("attempt", attempt);
        request.put("iteration", in.getHeader(Headers.ITERATION, 0, Integer.class));
        Instant deadline = instant(in.getHeader(Headers.DEADLINE));
        if (deadline != null) {
            request.put("deadline", deadline.toString());
        }
        request.set("input", Json.parse(in.getHeader(Headers.INPUT, String.class)));
        String context = in.getHeader(Headers.REQUEST_CONTEXT, String.class);
        if (context != null) {
            request.set("context", Json.parse(context));
        }
        String correlationId = correlationId(in.getHeader(Headers.ROW_ID, String.class), attempt);
        in.removeHeaders("*");
        in.setHeader(Headers.CORRELATION_ID, correlationId);
        in.setHeader("JMSReplyTo", replyQueue);
        in.setHeader("JMSDeliveryMode", jakarta.jms.DeliveryMode.PERSISTENT);
        in.setBody(Json.write(request));
    }

    static Instant instant(Object value) {
        if (value instanceof Timestamp t) {
            return t.toInstant();
        }
        if (value instanceof OffsetDateTime o) {
            return o.toInstant();
        }
        if (value instanceof Instant i) {
            return i;
        }
        return value == null ? null : Instant.parse(value.toString());
    }
}
