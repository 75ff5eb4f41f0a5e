package dev.agentcoordinator.engine;

import org.apache.camel.Exchange;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The step rows whose requests one message has sent so far, across the branches of its fan-outs.
 * One completion can reach a step twice (through a sibling that settled on the way, and directly);
 * the second visit finds the step running, started by this very message, which is also what an
 * earlier delivery that died before its commit leaves behind. Only a visit whose own message has not
 * sent the request yet re-sends it.
 * <p>
 * The set is an exchange property: a multicast or recipient list copies an exchange's properties by
 * reference, so every branch records into, and reads, the same set; so does the aggregator when the
 * arrival completes a join it found empty. A join completed from the repository comes back without
 * properties (the codec keeps headers only): in that rare case the request may go twice, which agents
 * tolerate (at-least-once dispatch).
 */
final class SentRequests {
    private static final String PROPERTY = "sentRequestRows";

    private SentRequests() {
    }

    /** Before a fan-out: the set every branch of this message shares (created once per message). */
    static void shareAcrossBranches(Exchange exchange) {
        if (exchange.getProperty(PROPERTY) == null) {
            exchange.setProperty(PROPERTY, ConcurrentHashMap.newKeySet());
        }
    }

    /** The request of the row in {@link Headers#ROW_ID} is about to leave. */
    @SuppressWarnings("unchecked")
    static void record(Exchange exchange) {
        if (exchange.getProperty(PROPERTY) instanceof Set<?> sent) {
            ((Set<String>) sent).add(exchange.getMessage().getHeader(Headers.ROW_ID, String.class));
        }
    }

    /** Whether this message sent the request of {@code rowId} already, on another branch. */
    static boolean sentBefore(Exchange exchange, Object rowId) {
        return exchange.getProperty(PROPERTY) instanceof Set<?> sent && sent.contains(rowId);
    }
}
