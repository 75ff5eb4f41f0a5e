package dev.agentcoordinator.engine;

import org.apache.camel.AggregationStrategy;
import org.apache.camel.Exchange;

import java.util.TreeSet;

/**
 * Aggregation strategy of a fan-in: keeps the first exchange and records, in a header that the
 * JDBC aggregation repository persists, which dependencies have reported so far.
 */
public final class JoinArrivals implements AggregationStrategy {
    public static final String ARRIVED = "joinArrived";

    @Override
    public Exchange aggregate(Exchange oldExchange, Exchange newExchange) {
        // the first arrival becomes the join; later ones only add their name (what recoverable
        // repositories expect: the old exchange keeps its identity)
        Exchange join = oldExchange != null ? oldExchange : newExchange;
        TreeSet<String> arrived = new TreeSet<>();
        String before = join.getMessage().getHeader(ARRIVED, String.class);
        if (before != null && !before.isEmpty()) {
            arrived.addAll(java.util.List.of(before.split(",")));
        }
        arrived.add(newExchange.getMessage().getHeader(Headers.STEP_ID, String.class));
        join.getMessage().setHeader(ARRIVED, String.join(",", arrived));
        // the completing arrival's message sends the joined step's request (see Headers.CAUSE_MESSAGE_ID)
        join.getMessage().setHeader(Headers.CAUSE_MESSAGE_ID, newExchange.getMessage().getHeader(Headers.CAUSE_MESSAGE_ID));
        if (join.getMessage().getHeader(Headers.ROUTE_KEY) == null) {   // stored by a coordinator before workflow versions
            join.getMessage().setHeader(Headers.ROUTE_KEY, newExchange.getMessage().getHeader(Headers.ROUTE_KEY));
            join.getMessage().setHeader(Headers.WORKFLOW_VERSION, newExchange.getMessage().getHeader(Headers.WORKFLOW_VERSION));
        }
        return join;
    }
}
