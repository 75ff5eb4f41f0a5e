package dev.agentcoordinator.engine;

import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.atomic.AtomicBoolean;

/**
 * When a reply reached the broker: its arrival stamp ({@link ReplyBacklog#INGRESS_TIMESTAMP}), which the guarded
 * transitions compare with the attempt's deadline (V44). A broker that stamps nothing (a standalone one without
 * {@code enable-ingress-timestamp} on {@code coordinator.#}) leaves that check out: said once, in a WARN that names
 * the setting, since a late reply then settles its attempt again, as before the check.
 */
final class ReplyArrival {
    private static final Logger LOG = LoggerFactory.getLogger(ReplyArrival.class);
    private static final AtomicBoolean UNSTAMPED_TOLD = new AtomicBoolean();

    private ReplyArrival() {
    }

    /** The address the reply was read from (the reply queue's name), as an address setting would match it. */
    private static String replyAddress(Exchange exchange) {
        Object destination = exchange.getMessage().getHeader("JMSDestination");
        if (destination instanceof jakarta.jms.Queue queue) {
            try {
                return queue.getQueueName();
            } catch (jakarta.jms.JMSException e) {
                return String.valueOf(destination);
            }
        }
        return destination == null ? "the reply queue's address" : String.valueOf(destination);
    }

    /** Sets {@link Headers#REPLY_ARRIVED_AT} (null included: every statement that settles an attempt reads it). */
    static void stamp(Exchange exchange) {
        Message in = exchange.getMessage();
        Long arrived = in.getHeader(ReplyBacklog.INGRESS_TIMESTAMP, Long.class);
        in.setHeader(Headers.REPLY_ARRIVED_AT, arrived);
        if (arrived == null && !UNSTAMPED_TOLD.getAndSet(true)) {
            LOG.warn("a reply on {} carries no arrival stamp ({}): the broker does not stamp the coordinator's addresses, so a"
                    + " reply that reaches it after its attempt's deadline still settles the attempt when it is read before the"
                    + " timeout sweep, and the sweeps hold back by the agents' clocks; set enable-ingress-timestamp on an address"
                    + " setting that matches {} (docs/guarantees.md, \"Limits\": coordinator.# covers the default reply queue). Told once.",
                    exchange.getFromEndpoint() == null ? "the reply queue" : exchange.getFromEndpoint().getEndpointKey(),
                    ReplyBacklog.INGRESS_TIMESTAMP, replyAddress(exchange));
        }
    }
}
