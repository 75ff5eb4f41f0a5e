package dev.agentcoordinator.api;

import org.apache.camel.Exchange;
import org.apache.camel.Processor;

import java.util.function.BooleanSupplier;

/**
 * Before a call that sends to the broker: while the broker is known to be unreachable, a 503 at once (the JMS
 * failure's answer, {@link ApiRouteBuilder}), not a send that waits for the client's reconnection: a call answered
 * after a minute, or not at all once the HTTP server closed the idle connection, whose event was then delivered or not.
 */
final class BrokerSendGuard implements Processor {
    /** Whether the broker is known to be unreachable now (BrokerOutageWatch): a send would wait for it, unbounded. */
    private final BooleanSupplier brokerUnreachable;

    BrokerSendGuard(BooleanSupplier brokerUnreachable) {
        this.brokerUnreachable = brokerUnreachable;
    }

    boolean brokerUnreachable() {
        return brokerUnreachable.getAsBoolean();
    }

    @Override
    public void process(Exchange exchange) throws jakarta.jms.JMSException {
        if (brokerUnreachable.getAsBoolean()) {
            throw new jakarta.jms.JMSException("the broker is known to be unreachable: not waiting for it");
        }
    }
}
