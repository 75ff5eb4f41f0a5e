package dev.agentcoordinator.engine;

import dev.agentcoordinator.definition.WorkflowCatalog;
import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.model.ChoiceDefinition;

import java.util.HashMap;
import java.util.Map;

/**
 * {@code agent.events} → route by type to the workflow it triggers (content-based router), whose start
 * stores the event with the execution it creates; an event that triggers nothing is only stored.
 * The JMS session is transacted: the event is acknowledged only after its effects are committed.
 * An event that cannot be decoded, or whose delivery failed {@code maxDeliveries} times, goes to
 * {@code agent.events.DLQ} as it came, with the reason in {@code dead_letter_reason} and its event_id, when it
 * names one, in {@code dead_letter_event_id} ({@link DeadLetteredEvents}).
 */
public class EventRoutes extends RouteBuilder {
    public static final String DEAD_LETTER_REASON = "dead_letter_reason";
    /** Exchange property: the event's body and headers as they came, what a dead letter carries. */
    private static final String EVENT_AS_IT_CAME = "eventAsItCame";
    /** The DLQ; the JMSMessageID header then names the dead letter (as GET /api/dead-letters lists it). */
    private static final String TO_DEAD_LETTERS = "jms:queue:" + Endpoints.DEAD_LETTER_QUEUE
            + "?exchangePattern=InOnly&includeSentJMSMessageID=true";
    /** Exchange property: "event <its event_id>", or what stands for an event without one. */
    private static final String DEAD_LETTER_EVENT = "deadLetterEvent";
    private static final String DEAD_LETTERED = "${exchangeProperty." + DEAD_LETTER_EVENT + "} sent to " + Endpoints.DEAD_LETTER_QUEUE
            + " as ${header.JMSMessageID}: ${header." + DEAD_LETTER_REASON + "}";
    /** JMS property the client sets on each delivery: 1 for the first. */
    private static final String DELIVERY_COUNT = "JMSXDeliveryCount";

    private final WorkflowCatalog catalog;
    private final int consumers;
    private final int maxDeliveries;
    private final ChainDepthGuard chainDepth;
    private final int maxTokens;
    private final int maxBytes;

    public EventRoutes(WorkflowCatalog catalog, int consumers, int maxDeliveries, int maxChainDepth, int maxTokens, int maxBytes) {
        this.catalog = catalog;
        this.maxTokens = maxTokens;
        this.maxBytes = maxBytes;
        this.consumers = consumers;
        this.maxDeliveries = maxDeliveries;
        this.chainDepth = new ChainDepthGuard(maxChainDepth);
    }

    @Override
    public void configure() {
        // A try block rather than onException: a failure in a workflow's start route, which this route
        // calls, is dealt with by that route's error handler, and the onException clauses of a calling
        // route do not run for it (CAMEL-26813); a catch block sees it. (useOriginalMessage() would keep
        // the event as it came for every exchange in the whole context, 7 % of the reply consumers'
        // CPU; this route keeps its own.)
        ChoiceDefinition byType = from("jms:queue:" + Endpoints.EVENTS_QUEUE + "?transacted=true&disableReplyTo=true"
                        + "&concurrentConsumers=" + consumers + "&maxConcurrentConsumers=" + consumers)
                .routeId("coordinator.events")
                .routeDescription("receives events and starts the workflows they trigger")
                .process(this::keepAsItCame)
                // an event sent as a BytesMessage is UTF-8 text, whatever the JVM's default charset
                .setProperty(org.apache.camel.Exchange.CHARSET_NAME, constant("UTF-8"))
                // a sender's JMS properties are not the engine's headers (progress, requestContext, workflowId, ...):
                // the event is its body and its JMS headers (a dead letter gets them all back, keepAsItCame)
                .removeHeaders("*", "JMS*")
                .process(ConsumedMessageId::setAsCause)
                .doTry()
                    .process(EventRoutes::refuseOtherThanText)
                    .process(EventRoutes::refuseTooLong)
                    .bean(new EventDecoder(catalog, maxTokens, maxBytes), "decode").id("decode-event")
                    .choice().id("route-by-type");
        // the workflow's start stores the event in the statement that creates the execution; its routes are
        // looked up per event (EventDecoder), so that a reload's workflows start too. The node's id holds a ~,
        // which no workflow or step id does, so that no workflow's node can take it
        byType.when(header(Headers.ROUTE_KEY).isNotNull())
                    // an outcome event starts an execution one deeper in its chain, up to a limit (ChainDepthGuard)
                    .filter(header(ChainDepthGuard.CHAIN_CAUSE).isNotNull())
                        .to(Sql.row("find-chain-depth")).id("find-chain-depth")
                        .bean(chainDepth, "check")
                    .end()
                    .toD("direct:wf.${header." + Headers.ROUTE_KEY + "}~start").id("trigger~workflow")
                    .process(ReusedEventKeys::refuseIfNoted);
        byType.otherwise()
                        .to(Sql.row("store-event")).id("store-event")
                        .filter(body().isNull())   // the key is another event's, of another type or payload
                            .to(Sql.row("find-event"))
                            .process(ReusedEventKeys::refuseReuse)
                        .end()
                        .choice()
                            // a delivery again (a redelivery, an outcome event sent again) was only counted
                            .when(simple("${body[deliveries]} > 1"))
                                .log(org.apache.camel.LoggingLevel.INFO, Endpoints.PROGRESS_LOG, "event ${header.eventType} (${header.eventKey})"
                                        + " delivered again (${body[deliveries]} deliveries), stored once; no workflow is triggered by it")
                            .otherwise()
                                .log(org.apache.camel.LoggingLevel.INFO, Endpoints.PROGRESS_LOG, "event ${header.eventType} (${header.eventKey}) stored; no workflow is triggered by it")
                        .end()
                    .end()
                .endDoTry()
                .doCatch(InvalidEventException.class)
                    .process(exchange -> deadLetter(exchange, caught(exchange).getMessage()))
                    .to(TO_DEAD_LETTERS)
                    .log(org.apache.camel.LoggingLevel.WARN, Endpoints.PROGRESS_LOG, DEAD_LETTERED)
                // Any other failure rolls the event back for the broker to deliver again, until its last
                // delivery. A database outage is not the event's fault: it stays with the broker (and the
                // consumers pause, DatabaseOutageBreaker).
                .doCatch(Exception.class)
                    // (not onWhen: the DSL sets an onWhen on every doCatch of its try block)
                    .process(this::deadLetterOnLastDelivery)
                    .to(TO_DEAD_LETTERS)
                    .log(org.apache.camel.LoggingLevel.WARN, Endpoints.PROGRESS_LOG, DEAD_LETTERED)
                .end();
    }

    private void keepAsItCame(Exchange exchange) {
        String notText = NotTextEvents.kindOf(exchange.getMessage());
        Object body;
        try {
            Utf8Text.refuseIfLonger(exchange.getMessage(), maxBytes);
        } catch (Utf8Text.TooManyBytesException tooLong) {
            // its dead letter goes without it: read to be sent on, its body would take the heap this bound keeps
            exchange.setProperty(TOO_LONG, "event body is " + tooLong.getMessage() + "; this dead letter does not carry it");
            Utf8Text.dropUnreadBody(exchange);
            exchange.setProperty(EVENT_AS_IT_CAME, new EventAsItCame(null, new HashMap<>(exchange.getMessage().getHeaders())));
            return;
        }
        if (notText == null) {
            body = exchange.getMessage().getBody();
        } else {
            exchange.setProperty(NOT_TEXT, notText);
            body = NotTextEvents.bodyOf(exchange.getMessage());
        }
        exchange.setProperty(EVENT_AS_IT_CAME, new EventAsItCame(body, new HashMap<>(exchange.getMessage().getHeaders())));
    }

    /** Exchange property: why an event's body is refused unread, longer than coordinator.input.max-message-bytes. */
    private static final String TOO_LONG = "eventTooLong";

    private static void refuseTooLong(Exchange exchange) {
        String reason = exchange.getProperty(TOO_LONG, String.class);
        if (reason != null) {
            throw new InvalidEventException(reason);
        }
    }

    /** Exchange property: the JMS message type of an event that is not a TextMessage or a BytesMessage. */
    private static final String NOT_TEXT = "eventNotText";

    /** JSON text comes as a TextMessage or a BytesMessage (CONTRACT.md); any other JMS message is named for what it is. */
    private static void refuseOtherThanText(Exchange exchange) {
        String kind = exchange.getProperty(NOT_TEXT, String.class);
        if (kind != null) {
            throw new InvalidEventException("event is a JMS " + kind + ": an event is JSON text, sent as a TextMessage or a BytesMessage"
                    + ("StreamMessage".equals(kind) ? " (this dead letter holds the stream's elements as a list, in an ObjectMessage)" : ""));
        }
    }

    /** The message becomes the event as it came, with the reason it is dead-lettered. */
    private static void deadLetter(Exchange exchange, String reason) {
        Message in = exchange.getMessage();
        EventAsItCame event = exchange.getProperty(EVENT_AS_IT_CAME, EventAsItCame.class);
        if (event != null) {
            in.setBody(event.body());
            in.setHeaders(new HashMap<>(event.headers()));
        }
        in.setHeader(DEAD_LETTER_REASON, reason);
        String notText = exchange.getProperty(NOT_TEXT, String.class);
        if (notText != null && in.getBody() != null && NotTextEvents.deadLetterType(notText) != null) {
            in.setHeader(org.apache.camel.component.jms.JmsConstants.JMS_MESSAGE_TYPE, NotTextEvents.deadLetterType(notText));
        }
        // what finds it again (GET /api/events/{id}, GET /api/dead-letters?event_id=)
        in.removeHeader(DeadLetteredEvents.EVENT_ID_PROPERTY);
        java.util.Optional<String> eventId = exchange.getProperty(NOT_TEXT) != null ? java.util.Optional.empty()
                : DeadLetteredEvents.eventIdOf(in.getBody(String.class));
        eventId.ifPresent(id -> in.setHeader(DeadLetteredEvents.EVENT_ID_PROPERTY, id));
        // a line of its own: an id's line breaks are written as \\n (a sender could otherwise forge log lines)
        exchange.setProperty(DEAD_LETTER_EVENT, eventId.map(id -> "event " + id.replace("\r", "\\r").replace("\n", "\\n"))
                .orElse("an event without a usable event_id"));
    }

    /** The failure an onException block handles (Camel moved it off the exchange). */
    private static Exception caught(Exchange exchange) {
        return exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Exception.class);
    }

    /** Dead-letters the event on its last delivery; before it, fails the exchange again, for the broker to redeliver. */
    private void deadLetterOnLastDelivery(Exchange exchange) throws Exception {
        Exception failure = caught(exchange);
        if (!lastDelivery(exchange) || DatabaseUnreachable.causes(failure)) {
            throw failure;
        }
        deadLetter(exchange, "its delivery failed " + maxDeliveries + " times; the last time: " + rootCauseMessage(failure));
    }

    private boolean lastDelivery(Exchange exchange) {
        Integer delivery = exchange.getMessage().getHeader(DELIVERY_COUNT, Integer.class);
        return delivery != null && delivery >= maxDeliveries;
    }

    private static String rootCauseMessage(Throwable failure) {
        Throwable root = failure;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String message = root.getMessage();
        return message == null ? root.getClass().getName() : message.strip();
    }

    private record EventAsItCame(Object body, Map<String, Object> headers) {
    }
}
