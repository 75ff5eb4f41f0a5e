package dev.agentcoordinator.engine;

import org.apache.camel.Exchange;
import org.apache.camel.Message;

import java.util.Map;

/**
 * An {@code event_id} names one event. A delivery whose key an event of another type, or of its type
 * with another payload, already has is not a repeat of it: it is refused (to agent.events.DLQ, as it
 * came, naming the other event) rather than counted as a delivery of that event, its payload lost, or
 * pushed into the execution that event started.
 */
final class ReusedEventKeys {
    private ReusedEventKeys() {
    }

    /** Exchange property: why the event is refused, noted by a workflow's start route ({@link #noteReuse}). */
    private static final String REFUSED = "refusedEventKey";

    /** Throws when the row of find-event.sql in the body is an event of another type than this one. */
    static void refuseReuse(Exchange exchange) {
        String refusal = reuse(exchange);
        if (refusal != null) {
            throw new InvalidEventException(refusal);
        }
    }

    /**
     * As {@link #refuseReuse}, in a workflow's start route: notes the refusal for the events route to
     * throw ({@link #refuseIfNoted}), inside its own try block. Thrown in the start route, the failure went
     * through that route's error handler first, which logged it at ERROR with its stack trace.
     */
    static void noteReuse(Exchange exchange) {
        String refusal = reuse(exchange);
        if (refusal != null) {
            exchange.setProperty(REFUSED, refusal);
        }
    }

    static boolean noted(Exchange exchange) {
        return exchange.getProperty(REFUSED) != null;
    }

    static void refuseIfNoted(Exchange exchange) {
        String refusal = exchange.getProperty(REFUSED, String.class);
        if (refusal != null) {
            exchange.removeProperty(REFUSED);
            throw new InvalidEventException(refusal);
        }
    }

    /**
     * Why the row of find-event.sql in the body refuses this event (an event of another type, or with
     * another payload), else null.
     */
    @SuppressWarnings("unchecked")
    private static String reuse(Exchange exchange) {
        Message in = exchange.getMessage();
        Map<String, Object> stored = in.getBody(Map.class);
        String type = in.getHeader(Headers.EVENT_TYPE, String.class);
        boolean sameType = stored != null && type.equals(stored.get("event_type"));
        if (stored == null || sameType && !Boolean.FALSE.equals(stored.get("same_payload"))) {
            return null;
        }
        Object execution = stored.get("id");
        return "event_id \"" + in.getHeader(Headers.EVENT_KEY) + "\" of this " + type
                + " event is already the id of " + (sameType ? "another " + type + " event, with another payload, received at "
                        + (stored.get("received_at") instanceof java.sql.Timestamp at ? Json.time(at.toInstant()) : stored.get("received_at")) : "an event of type " + stored.get("event_type"))
                + (execution == null ? "" : ", which started execution " + execution + " of " + stored.get("workflow_id"))
                + "; an event_id names one event";
    }
}
