package dev.agentcoordinator.engine;

import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.apache.camel.Predicate;

import java.util.HashMap;
import java.util.Map;

/**
 * The lease on the request of an attempt that no message started (V27): a sweep or an HTTP call started it, and
 * no redelivery would send its request again if it never left. The statement that started the attempt set the
 * lease; once the request has left, {@code request-sent.sql} clears it, or the retry sweep sends it again.
 * <p>
 * Building the request removes every header ({@link StepRequests#build}), so what the clearing statement needs
 * is kept as an exchange property in between, then handed to it as its parameters.
 */
final class RequestLeases {
    private static final String PROPERTY = "leasedRequest";

    private RequestLeases() {
    }

    /** Before the request is built: the attempt to clear the lease of, when no message started it. */
    static void rememberUnlessMessageStarted(Exchange exchange) {
        if (exchange.getMessage().getHeader(Headers.CAUSE_MESSAGE_ID) == null) {
            remember(exchange);
        } else {
            exchange.removeProperty(PROPERTY);
        }
    }

    /** Before the request is built: the attempt to clear the lease of, whatever started it (retries, compensations). */
    static void remember(Exchange exchange) {
        Message in = exchange.getMessage();
        Map<String, Object> parameters = new HashMap<>(4);
        parameters.put(Headers.ROW_ID, in.getHeader(Headers.ROW_ID, String.class));
        parameters.put(Headers.ATTEMPT, in.getHeader(Headers.ATTEMPT, Integer.class));
        exchange.setProperty(PROPERTY, parameters);
    }

    /** After the send: whether a lease is to be cleared. */
    static Predicate remembered() {
        return exchange -> exchange.getProperty(PROPERTY) != null;
    }

    /** The parameters of request-sent.sql, as the body it reads them from. */
    static void asParameters(Exchange exchange) {
        exchange.getMessage().setBody(exchange.getProperty(PROPERTY));
        exchange.removeProperty(PROPERTY);
    }
}
