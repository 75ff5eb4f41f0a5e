package dev.agentcoordinator.engine;

import com.fasterxml.jackson.databind.node.ObjectNode;
import jakarta.jms.DeliveryMode;
import jakarta.jms.Queue;
import jakarta.jms.Topic;
import org.apache.activemq.artemis.jms.client.ActiveMQDestination;
import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.apache.camel.component.jms.JmsConstants;

import java.util.Map;

/**
 * The answer to a heartbeat whose attempt is no longer in flight (it timed out, its execution was
 * cancelled, a later attempt superseded it): {@code {"status": "stop", "reason": …}} to the heartbeat's
 * JMSReplyTo, with its correlation id, so that the agent stops work whose reply would be ignored
 * (docs/agent-protocol.md, "Heartbeats"). Non-persistent and short-lived: a stop lost with the broker
 * costs only the work it would have saved, and the next heartbeat asks again.
 */
final class HeartbeatStops {
    /** The endpoint a stop leaves by; the destination comes from the message's headers. */
    static final String SEND = "jms:queue:coordinator.heartbeat-stops?exchangePattern=InOnly&preserveMessageQos=true";
    static final String STOP_REASON = "stopReason";
    private static final long TIME_TO_LIVE_MS = 60_000;

    private HeartbeatStops() {
    }

    /**
     * Whether a heartbeat's JMSReplyTo can take a stop: it names one, and not the coordinator's own reply
     * queue (an agent that copied the request's JMSReplyTo onto its heartbeats), where a stop would be
     * read as a malformed reply, nor another queue the coordinator reads or sends requests on: {@code coordinator.*},
     * {@code agent.events}, {@code agent.messages} and an agent's request queue {@code agent.<name>} (a stop sent there
     * was dead-lettered as an event, or taken by that agent as a request without a JMSReplyTo).
     */
    static boolean answerable(Object replyTo, String replyQueue) {
        if (replyTo == null) {
            return false;
        }
        String name;
        try {
            name = replyTo instanceof Queue queue ? queue.getQueueName() : untypedName(replyTo);
        } catch (jakarta.jms.JMSException e) {
            return true;
        }
        return AnswerQueues.answerable(name, replyQueue);
    }

    /** A STOMP reply-to without "queue://" arrives as an address without a routing type: the queue of that name. */
    private static String untypedName(Object replyTo) {
        return replyTo instanceof ActiveMQDestination untyped ? untyped.getAddress() : replyTo.toString();
    }

    /** Replaces the message with the stop for the heartbeat's attempt; the body is its step row (or null). */
    @SuppressWarnings("unchecked")
    static void toStopMessage(Exchange exchange) {
        Message in = exchange.getMessage();
        Map<String, Object> row = in.getBody(Map.class);
        Object replyTo = in.getHeader("JMSReplyTo");
        String correlationId = in.getHeader(Headers.CORRELATION_ID, String.class);
        Integer attempt = in.getHeader("replyAttempt", Integer.class);
        String reason = reason(row, attempt, correlationId, in.getHeader(Headers.REPLY_ARRIVED_AT, Long.class));

        ObjectNode stop = Json.object();
        stop.put("status", "stop");
        if (row != null) {
            stop.put("execution_id", (String) row.get("execution_id"));
            stop.put("step_id", (String) row.get("step_id"));
            stop.put("kind", (String) row.get("kind"));   // "compensation" for an undo's attempt
        }
        if (attempt != null) {
            stop.put("attempt", attempt);
        }
        stop.put("reason", reason);
        if (row != null && (Boolean.TRUE.equals(row.get("compensation_held")) || Boolean.TRUE.equals(row.get("locks_kept")))
                && attempt != null && attempt.equals(((Number) row.get("attempt")).intValue())) {
            // the step's undo waits to learn whether this attempt's work was done (V47), or its locks are kept until the
            // agent is done with the resource (V49): its reply, ok or error, says
            stop.put("reply_wanted", true);
        }

        in.removeHeaders("*");
        in.setHeader("JMSCorrelationID", correlationId);
        in.setHeader("JMSDeliveryMode", DeliveryMode.NON_PERSISTENT);
        in.setHeader("JMSExpiration", System.currentTimeMillis() + TIME_TO_LIVE_MS);
        if (replyTo instanceof Queue || replyTo instanceof Topic) {
            in.setHeader(JmsConstants.JMS_DESTINATION, replyTo);   // a temporary queue included
        } else {
            in.setHeader(JmsConstants.JMS_DESTINATION_NAME, untypedName(replyTo));
        }
        exchange.setProperty(STOP_REASON, reason);
        in.setBody(Json.write(stop));
    }

    /** Why the heartbeat's attempt is not extended; {@code arrivedAt}: when it reached the broker (epoch ms, or null). */
    static String reason(Map<String, Object> row, Integer attempt, String correlationId, Long arrivedAt) {
        if (row == null || attempt == null) {
            return "no step attempt " + correlationId + " exists";
        }
        // a compensation's attempt is named as such: its step may have completed long before
        boolean compensation = "compensation".equals(row.get("kind"));
        String of = (compensation ? " of the compensation of step " : " of step ") + row.get("step_id");
        String status = (String) row.get("status");
        int current = ((Number) row.get("attempt")).intValue();
        if (current != attempt) {
            return "attempt " + attempt + of + " was superseded: " + (compensation ? "the compensation is " : "the step is ") + status
                    + " at attempt " + current;
        }
        if ("running".equals(status) && arrivedAt != null && row.get("deadline") instanceof java.util.Date deadline) {
            return "attempt " + attempt + of + " passed its deadline (" + Json.time(deadline.toInstant())
                    + ") before this heartbeat reached the broker (" + Json.time(java.time.Instant.ofEpochMilli(arrivedAt)) + "): it is timed out";
        }
        Object error = row.get("error");
        return "attempt " + attempt + of + " is " + status + (error == null ? "" : ": " + error);
    }
}
