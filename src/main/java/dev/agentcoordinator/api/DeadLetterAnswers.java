package dev.agentcoordinator.api;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.agentcoordinator.engine.DeadLetteredEvents;
import dev.agentcoordinator.engine.Endpoints;
import dev.agentcoordinator.engine.EventDecoder;
import dev.agentcoordinator.engine.InvalidEventException;
import dev.agentcoordinator.engine.Json;
import jakarta.jms.JMSException;
import org.apache.camel.Exchange;
import org.apache.camel.Message;

import java.util.List;
import java.util.Map;

/**
 * The HTTP answers about refused events (agent.events.DLQ), as {@link DeadLetteredEvents} reads and takes them: the
 * listing, one dead letter, its retry or discard, and the dead letters GET /api/events/{id} shows beside the event.
 */
final class DeadLetterAnswers {
    /** The listing's query parameters. */
    private static final List<String> PARAMETERS = List.of("event_id", "limit", "after");

    private DeadLetterAnswers() {
    }

    /** GET /api/dead-letters: the dead letters, oldest first, as {@link DeadLetteredEvents} reads them. */
    static void list(Exchange exchange) throws Exception {
        Message in = exchange.getMessage();
        java.util.Optional<String> warning = ListingFilters.unknownParameters(exchange, PARAMETERS);
        DeadLetteredEvents.Page page = deadLetters(exchange).read(RequestParameters.blankToNull(in.getHeader("event_id", String.class)),
                RequestParameters.blankToNull(in.getHeader("after", String.class)), ListingFilters.limit(in));
        ObjectNode view = Json.object();
        view.put("queue", Endpoints.DEAD_LETTER_QUEUE);
        com.fasterxml.jackson.databind.node.ArrayNode listed = view.putArray("dead_letters");
        page.deadLetters().forEach(deadLetter -> listed.add(deadLetter.toJson(LISTED_BODY)));
        view.put("count", page.deadLetters().size());
        view.put("more", page.more());
        view.put("next", page.more() ? page.next() : null);   // null on the last page, as the other listings say it
        warning.ifPresent(text -> view.put("warning", text));
        JsonResponse.respond(exchange, 200, Json.write(view));
    }

    /** GET /api/dead-letters/{id}: one dead letter with its whole body. */
    static void one(Exchange exchange) throws Exception {
        String messageId = exchange.getMessage().getHeader("id", String.class);
        java.util.Optional<DeadLetteredEvents.DeadLetter> deadLetter = deadLetters(exchange).one(messageId);
        if (deadLetter.isEmpty()) {
            JsonResponse.respond(exchange, 404, ExecutionViews.error(noDeadLetter(messageId)));
        } else {
            JsonResponse.respond(exchange, 200, Json.write(deadLetter.get().toJson(Integer.MAX_VALUE)));
        }
    }

    private static String noDeadLetter(String messageId) {
        return "no dead letter " + messageId + " is on " + Endpoints.DEAD_LETTER_QUEUE + " (see GET /api/dead-letters for their message_id)";
    }

    /** How much of a dead letter's body a listing shows (GET /api/dead-letters/{id} shows it whole). */
    private static final int LISTED_BODY = 4096;

    /**
     * POST /api/dead-letters/{id}/retry ({@code requeue}): 202 when the dead letter went back on agent.events, 409 when
     * it would be refused again as it is (not an event); DELETE /api/dead-letters/{id}: 200 when it was discarded.
     * 404 when the DLQ holds no such message.
     */
    static void take(Exchange exchange, boolean requeue, int maxTokens) throws Exception {
        String messageId = exchange.getMessage().getHeader("id", String.class);
        String takenId = exchange.getProperty(TAKEN_EVENT_ID, String.class);
        java.util.Optional<DeadLetteredEvents.Taken> taken = deadLetters(exchange).take(messageId, requeue,
                body -> requeue ? firstReason(refusalOf(body, maxTokens), takenId) : null);
        if (taken.isEmpty()) {
            JsonResponse.respond(exchange, 404, ExecutionViews.error(noDeadLetter(messageId)));
            return;
        }
        DeadLetteredEvents.DeadLetter deadLetter = taken.get().deadLetter();
        if (taken.get().keptBecause() != null) {
            JsonResponse.respond(exchange, 409, ExecutionViews.error("dead letter " + messageId + " stays on " + Endpoints.DEAD_LETTER_QUEUE
                    + ": it would be refused again, " + taken.get().keptBecause() + " (post the event corrected instead)"));
            return;
        }
        org.slf4j.LoggerFactory.getLogger(Endpoints.PROGRESS_LOG).info("dead letter {}{} {} by request", messageId,
                deadLetter.eventId() == null ? "" : " (event " + deadLetter.eventId() + ")",
                requeue ? "put back on " + Endpoints.EVENTS_QUEUE : "discarded");
        ObjectNode answer = Json.object().put("message_id", messageId).put("event_id", deadLetter.eventId());
        if (requeue) {
            JsonResponse.respond(exchange, 202, Json.write(answer.put("queue", Endpoints.EVENTS_QUEUE)));
        } else {
            JsonResponse.respond(exchange, 200, Json.write(answer.put("discarded", true)));
        }
    }

    /** Why an event's text would be refused as it is (not JSON, no type, …), or null. */
    private static String firstReason(String reason, String otherwise) {
        return reason != null ? reason : otherwise;
    }

    /** Why a dead letter put back would be refused for its event_id (another event has it), set before the take. */
    private static final String TAKEN_EVENT_ID = "deadLetterEventIdTaken";

    /**
     * Before a retry: the dead letter's event_id, type and payload as the headers find-event.sql reads (none when it
     * is not an event with an id, or is no longer on the DLQ: the take says so).
     */
    static void eventOfTheDeadLetter(Exchange exchange, int maxTokens) throws Exception {
        Message in = exchange.getMessage();
        java.util.Optional<DeadLetteredEvents.DeadLetter> deadLetter = deadLetters(exchange).one(in.getHeader("id", String.class));
        if (deadLetter.isEmpty() || refusalOf(deadLetter.get().body(), maxTokens) != null) {
            return;
        }
        com.fasterxml.jackson.databind.JsonNode event = EventDecoder.parse(deadLetter.get().body(), maxTokens);
        String eventId = event.path("event_id").asText(null);
        if (eventId != null && !eventId.isBlank()) {
            com.fasterxml.jackson.databind.JsonNode payload = event.path("payload");
            in.setHeader(dev.agentcoordinator.engine.Headers.EVENT_KEY, eventId);
            in.setHeader(dev.agentcoordinator.engine.Headers.EVENT_TYPE, event.path("type").asText());
            in.setHeader("eventPayload", payload.isObject() ? payload.toString() : "{}");
        }
    }

    /** After find-event.sql: the event stored under the dead letter's event_id, when it is another event (another type or payload). */
    @SuppressWarnings("unchecked")
    static void noteATakenEventId(Exchange exchange) {
        Message in = exchange.getMessage();
        Map<String, Object> stored = in.getBody(Map.class);
        String type = in.getHeader(dev.agentcoordinator.engine.Headers.EVENT_TYPE, String.class);
        if (stored != null && (!type.equals(stored.get("event_type")) || Boolean.FALSE.equals(stored.get("same_payload")))) {
            exchange.setProperty(TAKEN_EVENT_ID, "its event_id \"" + in.getHeader(dev.agentcoordinator.engine.Headers.EVENT_KEY)
                    + "\" is the id of another " + (type.equals(stored.get("event_type")) ? type + " event, with another payload"
                    : "event, of type " + stored.get("event_type")));
        }
        in.setBody(null);
    }

    /**
     * Why agent.events would refuse {@code body} again, read within coordinator.input.max-json-tokens as the event route
     * reads it (null when it would take it): within the default 1,000,000, a coordinator whose setting is higher answered
     * 409 to the retry of an event it would take.
     */
    static String refusalOf(String body, int maxTokens) {
        try {
            EventDecoder.parse(body, maxTokens);
            return null;
        } catch (InvalidEventException refused) {
            return refused.getMessage();
        }
    }

    /** Dead letters a GET /api/events/{id} shows of its event_id. */
    private static final int EVENT_DEAD_LETTERS = 20;

    /**
     * GET /api/events/{id}: the stored event (the body get-agent-event.sql read, or null) with the events of its
     * event_id that were refused ({@code dead_letters}, when there are any): an event that reused the id of
     * another, or one that was never stored, whose 404 then says why.
     */
    static void eventWithItsDeadLetters(Exchange exchange) {
        Message in = exchange.getMessage();
        String id = in.getHeader("id", String.class);
        String stored = in.getBody(String.class);
        DeadLetteredEvents.Page refused = null;
        try {
            refused = deadLetters(exchange).read(id, null, EVENT_DEAD_LETTERS);
        } catch (JMSException | RuntimeException unreadable) {
            // the stored event does not depend on the broker: answered without its dead letters
            org.slf4j.LoggerFactory.getLogger(ApiRoutes.class).debug("dead letters of event {} not read: {}", id, unreadable.toString());
        }
        boolean anyRefused = refused != null && !refused.deadLetters().isEmpty();
        ObjectNode view;
        if (stored != null) {
            view = (ObjectNode) ExecutionViews.fromDatabase(stored);
        } else if (anyRefused) {
            List<DeadLetteredEvents.DeadLetter> letters = refused.deadLetters();
            view = Json.object().put("error", "event " + id + " was refused: agent.events.DLQ holds it ("
                    + letters.get(letters.size() - 1).reason() + ")");
        } else {
            JsonResponse.respond(exchange, 404, ExecutionViews.error("no event " + id + " has been received: an event waits on agent.events"
                    + " until a coordinator takes it, and one that cannot be decoded goes to agent.events.DLQ"
                    + (refused == null ? " (which could not be read: the broker cannot be reached)" : "")));
            return;
        }
        if (anyRefused) {
            for (DeadLetteredEvents.DeadLetter deadLetter : refused.deadLetters()) {
                view.withArray("dead_letters").add(deadLetter.toJson(LISTED_BODY));
            }
            if (refused.more()) {   // the first of them; GET /api/dead-letters?event_id= lists on
                view.put("dead_letters_more", true);
            }
        } else if (refused == null) {
            view.put("warning", "its dead letters were not read: the broker cannot be reached");
        }
        JsonResponse.respond(exchange, stored != null ? 200 : 404, Json.write(view));
    }

    private static DeadLetteredEvents deadLetters(Exchange exchange) {
        return java.util.Objects.requireNonNull(exchange.getContext().getRegistry().lookupByNameAndType(
                DeadLetteredEvents.REGISTRY_NAME, DeadLetteredEvents.class), DeadLetteredEvents.REGISTRY_NAME + " is not bound");
    }
}
