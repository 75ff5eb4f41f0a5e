package dev.agentcoordinator.infra;

import org.apache.camel.CamelContext;
import org.apache.camel.Consumer;
import org.apache.camel.Route;
import org.apache.camel.Service;
import org.apache.camel.component.jms.JmsConsumer;
import org.apache.camel.impl.engine.DefaultShutdownStrategy;
import org.apache.camel.spi.RouteStartupOrder;

import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Camel's graceful shutdown, but the routes that consume from the broker are shut down before the others.
 *
 * <p>The JMS consumers accept a message they received while stopping ({@code acceptMessagesWhileStopping},
 * see {@code CamelRuntime.jmsComponent}): an invoker of the listener container that was waiting in its receive
 * when the container stopped may still be handed a message, and handles it as any other, in its transaction.
 * Such a message goes on into the {@code direct:} routes its route calls, which must still be running: Camel
 * shuts the consumers down, after the in-flight exchanges, in reverse start-up order, and the {@code direct:}
 * routes started after the JMS route that calls them (they are defined after it) would be shut down first,
 * the message then waiting 30 s for a consumer (direct's block timeout) and failing. Here the JMS routes come
 * first: their consumers' shutdown waits for such a message to be handled, with every route it calls running.
 */
final class BrokerConsumersFirstShutdownStrategy extends DefaultShutdownStrategy {
    /** Moves a route's order past those of every other (start-up orders are counted from 1000, one a route). */
    private static final int FIRST = 1_000_000_000;

    BrokerConsumersFirstShutdownStrategy(CamelContext context) {
        super(context);
    }

    @Override
    protected boolean doShutdown(CamelContext context, List<RouteStartupOrder> routes, long timeout, TimeUnit timeUnit,
                                 boolean suspendOnly, boolean abortAfterTimeout, boolean forceShutdown) throws Exception {
        List<RouteStartupOrder> ordered = routes.stream().map(this::brokerConsumersFirst).toList();
        return super.doShutdown(context, ordered, timeout, timeUnit, suspendOnly, abortAfterTimeout, forceShutdown);
    }

    private RouteStartupOrder brokerConsumersFirst(RouteStartupOrder order) {
        if (!(order.getInput() instanceof JmsConsumer)) {
            return order;
        }
        // sorted by this order, reversed when routes shut down in reverse order (Camel's default)
        int first = isShutdownRoutesInReverseOrder() ? order.getStartupOrder() + FIRST : order.getStartupOrder() - FIRST;
        return new RouteStartupOrder() {
            @Override
            public int getStartupOrder() {
                return first;
            }

            @Override
            public Route getRoute() {
                return order.getRoute();
            }

            @Override
            public Consumer getInput() {
                return order.getInput();
            }

            @Override
            public List<Service> getServices() {
                return order.getServices();
            }
        };
    }
}
