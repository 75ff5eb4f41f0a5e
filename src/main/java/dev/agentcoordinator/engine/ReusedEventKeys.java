package dev.agentcoordinator.engine;

import org.apache.camel.Exchange;
import org.apache.camel.Message;

import java.util.Map;

/**
 * An {@code event_id} names one event. A delivery whose key an event of another type already has is
 * not a repeat of it: it is refused (to agent.events.DLQ, naming the other event) rather than counted
 * as a delivery of that event, or pushed into the execution that event started.
 */
final class ReusedEventKeys {
    private ReusedEventKeys() {
    }

    /** Throws when the row of find-event.sql in the body is an event of another type than this one. */
    @SuppressWarnings("unchecked")
    static void refuseAnotherTypes(Exchange exchange) {
        Message in = exchange.getMessage();
        Map<String, Object> stored = in.getBody(Map.class);
        String type = in.getHeader(Headers.EVENT_TYPE, String.class);
        if (stored == null || type.equals(stored.get("event_type"))) {
            return;
        }
        Object execution = stored.get("id");
        throw new InvalidEventException("event_id \"" + in.getHeader(Headers.EVENT_KEY) + "\" of this " + type
                + " event is already the id of an event of type " + stored.get("event_type")
                + (execution == null ? "" : ", which started execution " + execution + " of " + stored.get("workflow_id"))
                + "; an event_id names one event");
    }
}
