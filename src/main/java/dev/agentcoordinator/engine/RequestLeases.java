package dev.agentcoordinator.engine;

import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.apache.camel.Predicate;
import org.apache.camel.model.ProcessorDefinition;
import org.apache.camel.model.TryDefinition;

import java.util.HashMap;
import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * The lease on the request of an attempt that no message started (V27): a sweep or an HTTP call started it, and
 * no redelivery would send its request again if it never left. The statement that started the attempt set the
 * lease; once the request has left, {@code request-sent.sql} clears it, or the retry sweep sends it again.
 * <p>
 * Building the request removes every header ({@link StepRequests#build}), so what the clearing statement needs
 * is kept as an exchange property in between, then handed to it as its parameters.
 * <p>
 * A send that fails ({@link #send}) makes the lease due at once ({@code request-unsent.sql}): the retry sweep sends
 * the request again at its next run that finds the broker answering, not when the lease would have run out (up to
 * 30 s later, which is what a broker crash under a sweep's dispatch cost before). The failure is raised again, as it
 * came, so the route reports and handles it as it always did.
 */
final class RequestLeases {
    private static final String PROPERTY = "leasedRequest";
    /** The failure of a request's send, and the message as it was then: raised again after the lease was made due. */
    private static final String FAILED_SEND = "failedRequestSend";
    /** The attempt the request is of, leased or not: where a refusal of its send is noted (request-unsent.sql). */
    private static final String ATTEMPT_OF_REQUEST = "attemptOfRequest";
    /** How much of the broker's reason is kept with the attempt. */
    private static final int REASON_MAX_CHARS = 500;

    /** {@code blockedQueue}: the queue whose send was given up on as it waited for credits (CreditWaitBound), else null. */
    private record FailedSend(Exception failure, String blockedQueue, Object body, Map<String, Object> lease, Map<String, Object> attempt) {
    }

    private RequestLeases() {
    }

    /** Before the request is built: the attempt to clear the lease of, when no message started it. */
    static void rememberUnlessMessageStarted(Exchange exchange) {
        if (exchange.getMessage().getHeader(Headers.CAUSE_MESSAGE_ID) == null) {
            remember(exchange);
        } else {
            exchange.removeProperty(PROPERTY);
            exchange.setProperty(ATTEMPT_OF_REQUEST, attempt(exchange.getMessage()));
        }
    }

    /** Before the request is built, for an attempt a message started (no lease): where a refusal of its send is noted. */
    static void rememberMessageStarted(Exchange exchange) {
        exchange.removeProperty(PROPERTY);
        exchange.setProperty(ATTEMPT_OF_REQUEST, attempt(exchange.getMessage()));
    }

    /** Before the request is built: the attempt to clear the lease of, whatever started it (retries, compensations). */
    static void remember(Exchange exchange) {
        Map<String, Object> parameters = attempt(exchange.getMessage());
        exchange.setProperty(PROPERTY, parameters);
        exchange.setProperty(ATTEMPT_OF_REQUEST, parameters);
    }

    private static Map<String, Object> attempt(Message in) {
        Map<String, Object> parameters = new HashMap<>(4);
        parameters.put(Headers.ROW_ID, in.getHeader(Headers.ROW_ID, String.class));
        parameters.put(Headers.ATTEMPT, in.getHeader(Headers.ATTEMPT, Integer.class));
        return parameters;
    }

    /** After the send: whether a lease is to be cleared. */
    static Predicate remembered() {
        return exchange -> exchange.getProperty(PROPERTY) != null;
    }

    /** The parameters of request-sent.sql, as the body it reads them from. */
    static void asParameters(Exchange exchange) {
        exchange.getMessage().setBody(exchange.getProperty(PROPERTY));
        exchange.removeProperty(PROPERTY);
        exchange.removeProperty(ATTEMPT_OF_REQUEST);
    }

    /**
     * Sends the request ({@code send} adds the sending node to the try block it is given); when the send fails, the
     * lease of a leased request is made due at once ({@code request-unsent.sql}, node {@code markDueId}), then the
     * failure is raised again by a node of the route itself ({@code markDueId.raise}, where the log's message history
     * shows it failed), so that the route's error handler deals with it as it
     * did before (a try block has none of its own). A request without a lease (a message started its attempt: the
     * message's transaction rolls back and the broker delivers it again, which sends the request again) only has its
     * failure raised again. Either way a refusal by the broker (it answered, and did not take the request) is noted on
     * the attempt's record while it runs, for its timeout to tell (request-unsent.sql), and raised as an
     * {@link UnacceptedRequestException} that names the broker's reason. A failure to make the lease due is logged and
     * leaves the lease as it was: the request is then sent again when it runs out. Returns where the route goes on
     * after a send that went through.
     */
    static ProcessorDefinition<?> send(ProcessorDefinition<?> at, UnaryOperator<TryDefinition> send, String markDueId) {
        return send(at, send, markDueId, null);
    }

    /**
     * As {@link #send(ProcessorDefinition, UnaryOperator, String)}, for the retry sweep: a request whose send was
     * refused before is not raised again, only told by {@code refusals}; the next sweep sends it again all the same.
     */
    static ProcessorDefinition<?> send(ProcessorDefinition<?> at, UnaryOperator<TryDefinition> send, String markDueId,
                                       RepeatedRefusals refusals) {
        // the send's wait for producer credits bounded: a blocked address must not hold the route's thread (CreditWaitBound)
        return send.apply(at.doTry().process(CreditWaitBound::watch))
                    .process(CreditWaitBound::unwatch)
                    .process(exchange -> exchange.removeProperty(ATTEMPT_OF_REQUEST))   // it went: nothing to note
                .doCatch(Exception.class)
                    .process(RequestLeases::keepFailedSend)
                .end()
                .filter(exchange -> exchange.getProperty(FAILED_SEND, FailedSend.class) != null
                        && exchange.getProperty(FAILED_SEND, FailedSend.class).attempt() != null
                        && (exchange.getProperty(FAILED_SEND, FailedSend.class).lease() != null
                            || refused(exchange.getProperty(FAILED_SEND, FailedSend.class).failure())))
                    .process(RequestLeases::unsentParameters)
                    .doTry()
                        .to(Sql.update("request-unsent")).id(markDueId)
                    .doCatch(Exception.class)
                        .process(RequestLeases::logNotMadeDue)
                    .end()
                .end()
                .process(exchange -> raiseFailedSend(exchange, refusals)).id(markDueId + ".raise");
    }

    /** In the catch block of a send: the failure, the message and the lease (if any), for {@link #raiseFailedSend}. */
    @SuppressWarnings("unchecked")
    private static void keepFailedSend(Exchange exchange) {
        String blockedQueue = CreditWaitBound.unwatch(exchange);
        Exception failure = blockedQueue != null ? CreditWaitBound.givenUp(blockedQueue, exchange)
                : exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Exception.class);
        exchange.setProperty(FAILED_SEND, new FailedSend(failure, blockedQueue, exchange.getMessage().getBody(),
                (Map<String, Object>) exchange.removeProperty(PROPERTY), (Map<String, Object>) exchange.removeProperty(ATTEMPT_OF_REQUEST)));
    }

    /**
     * The parameters of request-unsent.sql: the attempt, and the refusal it notes on the attempt's record while it runs
     * (null for a broker lost under the send, which may have taken the request), so that the timeout sweep, of whichever
     * coordinator, says why no agent answered.
     */
    private static void unsentParameters(Exchange exchange) {
        FailedSend failed = exchange.getProperty(FAILED_SEND, FailedSend.class);
        Map<String, Object> parameters = new HashMap<>(failed.attempt());
        parameters.put("refusal", refused(failed.failure()) ? refusalNote(failed.failure()) : null);
        exchange.getMessage().setBody(parameters);
    }

    /** The broker answered the send, and refused it (an address full with FAIL, a permission missing): not an outage. */
    private static boolean refused(Exception failure) {
        if (failure == null || BrokerUnreachable.causes(failure)) {
            return false;
        }
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof jakarta.jms.JMSException || t instanceof org.apache.activemq.artemis.api.core.ActiveMQException) {
                return true;
            }
        }
        return false;
    }

    /** What an attempt whose request was refused records, and its timeout then ends with (expire-attempts.sql). */
    static String refusalNote(Throwable failure) {
        String reason = RepeatedRefusals.brokersWords(failure);
        if (reason.length() > REASON_MAX_CHARS) {
            reason = reason.substring(0, REASON_MAX_CHARS) + "…";
        }
        return "its request was never accepted by the broker (" + reason + ")";
    }

    private static void logNotMadeDue(Exchange exchange) {
        FailedSend failed = exchange.getProperty(FAILED_SEND, FailedSend.class);
        if (failed.lease() == null) {
            return;   // only a refusal was to be noted: the route's own failure tells the send's
        }
        Exception cause = exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Exception.class);
        org.slf4j.LoggerFactory.getLogger(Endpoints.PROGRESS_LOG).warn("the lease of step row {} attempt {}, whose request's send failed,"
                + " could not be made due ({}): its request is sent again when the lease runs out",
                failed.lease().get(Headers.ROW_ID), failed.lease().get(Headers.ATTEMPT), cause == null ? null : cause.getMessage());
    }

    /**
     * After the lease was made due: the send's failure again, on the message as it was when the send failed; for a
     * request of the retry sweep whose send was refused before, only {@code refusals}' line.
     */
    private static void raiseFailedSend(Exchange exchange, RepeatedRefusals refusals) throws Exception {
        FailedSend failed = (FailedSend) exchange.removeProperty(FAILED_SEND);
        if (failed == null) {
            return;
        }
        exchange.getMessage().setBody(failed.body());
        if (refusals != null && failed.blockedQueue() != null) {
            refusals.blocked(failed.blockedQueue());
        }
        if (refusals != null && failed.lease() != null) {
            String key = RepeatedRefusals.key(failed.lease().get(Headers.ROW_ID), failed.lease().get(Headers.ATTEMPT));
            if (refusals.refusedBefore(key)) {
                refusals.refusedAgain(key, exchange.getProperty(WHAT, String.class), failed.failure());
                return;
            }
            refusals.refusedFirst(key);
        }
        throw refused(failed.failure()) ? new UnacceptedRequestException(failed.failure()) : failed.failure();
    }

    /** Exchange property of the retry sweep: the step or compensation and attempt the request is of, for the log. */
    static final String WHAT = "requestOf";
}
