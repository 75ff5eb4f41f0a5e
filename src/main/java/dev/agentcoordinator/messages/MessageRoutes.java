package dev.agentcoordinator.messages;

import dev.agentcoordinator.engine.AnswerQueues;
import dev.agentcoordinator.engine.Endpoints;
import dev.agentcoordinator.engine.Headers;
import dev.agentcoordinator.engine.IgnoredFields;
import dev.agentcoordinator.engine.LogText;
import dev.agentcoordinator.engine.ReplyBacklog;
import dev.agentcoordinator.engine.Sql;
import jakarta.jms.Destination;
import jakarta.jms.JMSException;
import jakarta.jms.Queue;
import org.apache.activemq.artemis.jms.client.ActiveMQDestination;
import org.apache.camel.Exchange;
import org.apache.camel.LoggingLevel;
import org.apache.camel.Message;
import org.apache.camel.builder.RouteBuilder;

/**
 * Agent-to-agent messages (spec: sendAgentMessage). A message sent to {@code agent.messages} (or
 * posted to {@code /api/messages}) is stored in {@code agent_messages} as pending, delivered to
 * {@code agent.<to>} with JMS property {@code message_kind=agent_message}, and marked delivered.
 * When it requires a response, the recipient answers to {@link #RESPONSE_QUEUE}; the response is
 * stored (responded) and forwarded to the sender's JMSReplyTo. A sweep marks messages whose
 * response did not come in time timed_out and tells their senders.
 */
public class MessageRoutes extends RouteBuilder {
    /** Where agents send messages for other agents. */
    public static final String INBOUND_QUEUE = "agent.messages";
    /** Where recipients send their responses (the JMSReplyTo of a delivered message). */
    public static final String RESPONSE_QUEUE = "coordinator.message-responses";
    /** The route that takes the responses off {@link #RESPONSE_QUEUE}. */
    public static final String RESPONSES_ROUTE_ID = "coordinator.messages.responses";
    /** Stores and delivers one message whose fields are in the headers ({@link AgentMessageCodec#accept}). */
    public static final String ACCEPT = "direct:coordinator.messages.accept";
    /** Sends to the destination named by header CamelJmsDestinationName. */
    private static final String SEND = "jms:queue:" + INBOUND_QUEUE + "?exchangePattern=InOnly&preserveMessageQos=true";

    private final long defaultResponseTimeoutMs;
    private final int consumers;
    private final long sweepPeriodMs;
    private final ReplyBacklog responses;
    /** The coordinator's reply queue: no answer of the coordinator's goes there ({@link AnswerQueues}). */
    private final String replyQueue;

    /** coordinator.input.max-json-tokens: the most JSON tokens read from one agent message or response. */
    private final int maxTokens;
    /** coordinator.input.max-message-bytes: the most bytes of one agent message's or response's body read. */
    private final int maxBytes;

    /**
     * {@code responses}: how far behind the consumer of {@link #RESPONSE_QUEUE} is, fed by that consumer; the
     * timeout sweep holds by it, as the attempt timeouts hold by the step replies' (a response that came in
     * time may be queued). {@code maxTokens} (coordinator.input.max-json-tokens): the most JSON tokens read from one
     * agent message or response.
     */
    public MessageRoutes(long defaultResponseTimeoutMs, int consumers, long sweepPeriodMs, ReplyBacklog responses, String replyQueue,
                         int maxTokens, int maxBytes) {
        this.maxTokens = maxTokens;
        this.maxBytes = maxBytes;
        this.replyQueue = replyQueue;
        this.defaultResponseTimeoutMs = defaultResponseTimeoutMs;
        this.consumers = consumers;
        this.sweepPeriodMs = sweepPeriodMs;
        this.responses = responses;
    }

    @Override
    public void configure() {
        onException(InvalidAgentMessageException.class)
                .handled(true)
                .log(LoggingLevel.WARN, Endpoints.PROGRESS_LOG, "agent message refused: ${exception.message}")
                .filter(exchangeProperty(AgentMessageCodec.REPLY_TO).isNotNull())
                    .process(e -> AgentMessageCodec.toRejection(e, e.getProperty(AgentMessageCodec.REPLY_TO, String.class),
                            e.getProperty("correlationId", String.class), e.getProperty(Exchange.EXCEPTION_CAUGHT, Exception.class).getMessage()))
                    .to(SEND)
                .end();

        from("jms:queue:" + INBOUND_QUEUE + "?transacted=true&disableReplyTo=true&concurrentConsumers=" + consumers + "&maxConcurrentConsumers=" + consumers)
                .routeId("coordinator.messages.inbound")
                .routeDescription("agent-to-agent messages sent over JMS")
                .process(this::acceptFromJms)
                .process(MessageRoutes::warnOfIgnoredFields)
                .to(ACCEPT);

        from(ACCEPT)
                .routeId("coordinator.messages.accept")
                .routeDescription("stores a message (pending), delivers it to agent.<to>, marks it delivered")
                // a failure here is its caller's to answer (the HTTP API's 503 or 500, the JMS consumer's
                // rollback): a route's own error handler would end it here, where no caller sees it
                .errorHandler(noErrorHandler())
                .filter(header("timeoutMs").isNull())
                    .setHeader("timeoutMs", constant(defaultResponseTimeoutMs))
                .end()
                .to(Sql.row("store-agent-message")).id("coordinator.messages.store")
                .choice()
                    .when(Sql.returnedRow())
                        .log(LoggingLevel.INFO, Endpoints.PROGRESS_LOG, "message ${header.messageId} (${header.messageType}) from ${header.fromAgent} to ${header.toAgent}")
                        .process(e -> AgentMessageCodec.toDelivery(e, RESPONSE_QUEUE))
                        .to(SEND).id("coordinator.messages.deliver")
                        .to(Sql.update("mark-message-delivered")).id("coordinator.messages.mark-delivered")
                    .endChoice()
                    .otherwise()
                        // a repeat of a message stored already is dropped; another message with its id is refused
                        .setBody(constant(null))
                        .to(Sql.row("find-reused-message-id")).id("coordinator.messages.find-reused-id")
                        .process(MessageRoutes::refuseReusedOrExpired)
                    .endChoice()
                .end();

        from("jms:queue:" + RESPONSE_QUEUE + "?transacted=true&disableReplyTo=true&concurrentConsumers=" + consumers + "&maxConcurrentConsumers=" + consumers)
                .routeId(RESPONSES_ROUTE_ID)
                .routeDescription("responses of recipients: stored, then forwarded to the sender")
                .process(exchange -> responses.track(exchange, dev.agentcoordinator.engine.ConsumedMessageId.of(exchange.getMessage())))
                .process(exchange -> AgentMessageCodec.readResponse(exchange, maxTokens, maxBytes))
                .filter(header(AgentMessageCodec.NOT_A_RESPONSE).isNotNull())
                    .log(LoggingLevel.WARN, Endpoints.PROGRESS_LOG, "reply to message ${header.messageId} dropped: ${header.notAResponse}")
                    .stop()
                .end()
                .to(Sql.row("record-message-response")).id("coordinator.messages.store-response")
                .choice()
                    .when(Sql.returnedRow())
                        .process(AgentMessageCodec::toSenderResponse)
                        .log(LoggingLevel.INFO, Endpoints.PROGRESS_LOG, "message ${header.messageId} answered")
                        .filter(header(AgentMessageCodec.DESTINATION).isNotNull())
                            .to(SEND).id("coordinator.messages.forward-response")
                        .end()
                    .endChoice()
                    .otherwise()
                        .log(LoggingLevel.WARN, Endpoints.PROGRESS_LOG, "response to message ${header.messageId} ignored:"
                                + " the message is not awaiting one (unknown, answered already, or timed out)")
                .end();

        from(Endpoints.sweep(sweepPeriodMs, 7))
                .routeId("coordinator.messages.timeouts")
                .routeDescription("messages whose response did not come in time: timed_out, and the sender is told")
                // as attempt timeouts: a response that came in time may still be queued
                .process(responses::holdSweep)
                .setHeader(Headers.SWEEP_LIMIT, constant(Endpoints.SWEEP_ROWS))
                .to(Sql.rows("expire-agent-messages"))
                .split(body())
                    .process(AgentMessageCodec::toTimeoutNotice)
                    .log(LoggingLevel.WARN, Endpoints.PROGRESS_LOG, "message ${header.messageId} timed out waiting for a response")
                    .filter(header(AgentMessageCodec.DESTINATION).isNotNull())
                        .to(SEND)
                        .to(Sql.update("notice-sent")).id("coordinator.messages.notice-sent")
                    .end()
                .end();
    }

    /** The row find-reused-message-id returned (if any): another message's id is refused, and so is a message that timed out undelivered. */
    @SuppressWarnings("unchecked")
    private static void refuseReusedOrExpired(Exchange exchange) {
        java.util.Map<String, Object> stored = exchange.getMessage().getBody(java.util.Map.class);
        Object messageId = exchange.getMessage().getHeader(AgentMessageCodec.MESSAGE_ID);
        if (stored == null) {
            return;
        }
        if (Boolean.TRUE.equals(stored.get("reused"))) {
            throw new InvalidAgentMessageException("agent message field message_id " + messageId
                    + " is taken by another message (another sender, recipient or type): choose a new one");
        }
        if (Boolean.TRUE.equals(stored.get("expired_undelivered"))) {
            throw new AgentMessageConflictException("agent message " + messageId + " timed out before it could be"
                    + " delivered (its send failed): send it as a new message");
        }
    }

    private void acceptFromJms(Exchange exchange) throws JMSException {
        Message in = exchange.getMessage();
        String replyTo = queueName(in.getHeader("JMSReplyTo"));
        String correlationId = in.getHeader("JMSCorrelationID", String.class);
        boolean redelivery = Boolean.TRUE.equals(in.getHeader("JMSRedelivered", Boolean.class));
        String acceptedBy = dev.agentcoordinator.engine.ConsumedMessageId.of(in);   // before accept() clears the headers
        if (replyTo != null && !AnswerQueues.answerable(replyTo, replyQueue)) {   // refused unanswered: not even a rejection goes there
            throw new InvalidAgentMessageException("agent message JMSReplyTo names " + LogText.oneLine(replyTo) + ", a queue the"
                    + " coordinator, an agent or the broker reads, where an answer would pass for one of theirs: name a queue of the"
                    + " sender's own (the Java SDK uses a temporary queue)");
        }
        // kept as properties: a refused message is answered there (see onException)
        exchange.setProperty(AgentMessageCodec.REPLY_TO, replyTo);
        exchange.setProperty("correlationId", correlationId);
        AgentMessageCodec.accept(in, replyTo, correlationId, maxTokens, maxBytes);
        in.setHeader(AgentMessageCodec.REDELIVERY, redelivery);
        in.setHeader(AgentMessageCodec.ACCEPTED_BY, acceptedBy);
        if (correlationId == null) {
            in.setHeader("correlationId", in.getHeader(AgentMessageCodec.MESSAGE_ID));
        }
    }

    /** HTTP: checks a posted message and fills the headers {@link #ACCEPT} needs; there is no reply destination. */
    /** A WARN line when a field of a message sent over JMS looks misspelt, a DEBUG line for the sender's own fields. */
    private static void warnOfIgnoredFields(Exchange exchange) {
        if (exchange.getMessage().getHeader(AgentMessageCodec.IGNORED_FIELDS) instanceof IgnoredFields.Ignored ignored) {
            org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(MessageRoutes.class);
            String id = exchange.getMessage().getHeader(AgentMessageCodec.MESSAGE_ID, String.class);
            if (ignored.misspelt()) {
                log.warn("Message {}: {}", LogText.oneLine(id), LogText.oneLine(ignored.text()));
            } else {
                log.debug("Message {}: {}", LogText.oneLine(id), LogText.oneLine(ignored.text()));
            }
        }
    }

    /** A posted message, read within {@code maxTokens} (coordinator.input.max-json-tokens) as one on agent.messages is. */
    public static void acceptFromHttp(Exchange exchange, int maxTokens) {
        AgentMessageCodec.accept(exchange.getMessage(), null, null, maxTokens);
        exchange.getMessage().setHeader(AgentMessageCodec.REDELIVERY, false);
        Headers.presentEvenIfNull(exchange.getMessage(), AgentMessageCodec.ACCEPTED_BY);   // no JMS message
    }

    static String queueName(Object destination) throws JMSException {
        if (destination instanceof Queue queue) {
            return queue.getQueueName();
        }
        if (destination instanceof ActiveMQDestination untyped && !(destination instanceof jakarta.jms.Topic)) {
            // a STOMP reply-to without "queue://" arrives as an address without a routing type: the queue of
            // that name, as HeartbeatStops answers it
            return untyped.getAddress();
        }
        if (destination instanceof Destination other) {
            throw new InvalidAgentMessageException("JMSReplyTo of an agent message must be a queue, was " + other);
        }
        return destination == null ? null : destination.toString();
    }
}
