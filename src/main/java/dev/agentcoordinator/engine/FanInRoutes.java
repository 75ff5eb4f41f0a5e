package dev.agentcoordinator.engine;

import dev.agentcoordinator.definition.WorkflowCatalog;
import org.apache.camel.Exchange;
import org.apache.camel.ExchangePropertyKey;
import org.apache.camel.builder.PredicateBuilder;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.processor.aggregate.OptimisticLockRetryPolicy;
import org.apache.camel.processor.aggregate.jdbc.JdbcCamelCodec;
import org.apache.camel.support.DefaultExchange;
import org.apache.camel.util.concurrent.SynchronousExecutorService;

import javax.sql.DataSource;
import java.util.Map;

/**
 * The one aggregator behind every fan-in ({@code wf.<id>.<step>.join} routes forward to it). Partial
 * joins live in PostgreSQL ({@code step_joins}), so they survive a crash, and optimistic locking lets
 * several coordinator instances add to the same join. A single aggregator, because the repository's
 * recovery task re-sends every completed-but-unconfirmed join to the aggregator that scans it. The
 * arrival that finds every dependency settled (the database decides, {@link DependencyGate}) runs
 * the step at once; the ones before it wait in the aggregator.
 */
public class FanInRoutes extends RouteBuilder {
    public static final String FAN_IN = "direct:coordinator.fan-in";
    public static final String JOIN_STEP = "joinStep";
    /** {@code <execution>:<step>}: the aggregator's correlation key and the partial join's id. */
    static final String JOIN_KEY = "joinKey";
    public static final String REPOSITORY = "step_joins";
    private static final long STALE_JOIN_SWEEP_MS = 5000;

    /** Conflicting arrivals at one join before a message gives up and goes back to the broker for redelivery. */
    static final int JOIN_CONFLICT_RETRIES = 20;

    /** The encoding of {@link JoinRepository} (Camel's default codec, headers of plain types only). */
    private static final JdbcCamelCodec JOIN_CODEC = new JdbcCamelCodec();

    private final WorkflowCatalog catalog;

    public FanInRoutes(WorkflowCatalog catalog) {
        this.catalog = catalog;
    }

    private static final String[] JOIN_HEADERS = {Headers.EXECUTION_ID, Headers.WORKFLOW_ID, Headers.WORKFLOW_VERSION,
            Headers.ROUTE_KEY, Headers.STEP_ID, JOIN_STEP,
            Headers.CAUSE_MESSAGE_ID};

    /**
     * Only what the join needs is persisted with it, and its key ({@link #joinKey}). (removeHeaders with exclusions matched every
     * header against every exclusion as a regular expression: 3 % of the reply consumers' CPU.)
     */
    private static void keepJoinHeaders(Exchange exchange) {
        Map<String, Object> headers = exchange.getMessage().getHeaders();
        Object[] kept = new Object[JOIN_HEADERS.length];
        for (int i = 0; i < JOIN_HEADERS.length; i++) {
            kept[i] = headers.get(JOIN_HEADERS[i]);
        }
        headers.clear();
        for (int i = 0; i < JOIN_HEADERS.length; i++) {
            if (kept[i] != null) {
                headers.put(JOIN_HEADERS[i], kept[i]);
            }
        }
        headers.put(JOIN_KEY, joinKey((String) headers.get(Headers.EXECUTION_ID), (String) headers.get(JOIN_STEP)));
    }

    /**
     * An arrival that loses the optimistic-lock race re-reads the join and tries again at once, on its
     * own thread. With any delay Camel schedules the retry on a separate executor: the retry then runs
     * outside the message's JMS transaction, and an error other than a lock conflict (the database
     * restarting) escapes the scheduled task without completing the exchange, so the consumer thread
     * waits forever while holding the replies the broker has already pushed to it.
     */
    static OptimisticLockRetryPolicy joinConflictRetries() {
        return new OptimisticLockRetryPolicy().retryDelay(0).maximumRetries(JOIN_CONFLICT_RETRIES);
    }

    /** The partial join's id: the aggregator's correlation key. */
    static String joinKey(String executionId, String joinStep) {
        return executionId + ":" + joinStep;
    }

    /**
     * The join a completion leaves when it is the first arrival at the fan-in {@code joinStep}, as the
     * aggregator would store it for a first arrival: the arrival's join headers ({@link #keepJoinHeaders}), aggregated by
     * {@link JoinArrivals}, encoded by the repository's codec. complete-and-start.sql inserts it in the
     * completion's own transaction ({@link JoinArrivalsInCompletion}).
     */
    static byte[] firstArrivalJoin(Exchange completion, String executionId, String joinStep) {
        Exchange arrival = new DefaultExchange(completion.getContext());
        Map<String, Object> from = completion.getMessage().getHeaders();
        for (String name : JOIN_HEADERS) {
            Object value = from.get(name);
            if (value != null) {
                arrival.getMessage().setHeader(name, value);
            }
        }
        arrival.getMessage().setHeader(Headers.EXECUTION_ID, executionId);
        arrival.getMessage().setHeader(JOIN_STEP, joinStep);
        String key = joinKey(executionId, joinStep);
        arrival.getMessage().setHeader(JOIN_KEY, key);
        Exchange join = new JoinArrivals().aggregate(null, arrival);
        join.setProperty(ExchangePropertyKey.AGGREGATED_SIZE, 1);
        join.setProperty(ExchangePropertyKey.AGGREGATED_CORRELATION_KEY, key);
        try {
            return JOIN_CODEC.marshallExchange(join, false);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException("cannot encode the join of " + key, e);
        }
    }

    private static boolean startedWithCompletion(Exchange exchange) {
        return CompletionStarts.startedRow(exchange, exchange.getMessage().getHeader(JOIN_STEP, String.class)) != null;
    }

    /**
     * A join that completed in the aggregator, or that the repository's recovery sends again, runs on the routes
     * of its execution's version on this coordinator: the route key stored with it is the storing coordinator's,
     * which names another version here during a rolling deployment (or after an upgrade).
     */
    private void routeToItsVersion(Exchange exchange) {
        org.apache.camel.Message in = exchange.getMessage();
        if (in.getHeader(Headers.WORKFLOW_VERSION) == null) {
            return;   // stored before workflow versions: its key names the loaded workflow
        }
        RouteKeys.routeTo(in, catalog);
        if (in.getHeader(Headers.ROUTE_KEY) == null) {
            // left to the repository's recovery, here or on a coordinator that has the version
            throw new IllegalStateException("the join of " + in.getHeader(JOIN_KEY) + " runs on version "
                    + in.getHeader(Headers.WORKFLOW_VERSION) + " of " + in.getHeader(Headers.WORKFLOW_ID) + ", which this coordinator cannot find");
        }
    }

    @Override
    public void configure() {
        DataSource dataSource = getContext().getRegistry().findSingleByType(DataSource.class);
        DependencyGate everyDependencySettled = new DependencyGate(dataSource, catalog);
        from(FAN_IN)
                .routeId("coordinator.fan-in")
                .routeDescription("waits until every dependency of a step has settled, then runs the step")
                .process(FanInRoutes::keepJoinHeaders)
                .setBody(constant(null))
                .choice()
                    // (a completion that recorded its arrival in its own statement does not come here:
                    // its join route stops, see JoinArrivalsInCompletion)
                    // the completion of the last dependency started the step and removed its partial join
                    // already (complete-and-start.sql): its route sends the request
                    .when(FanInRoutes::startedWithCompletion)
                        .toD("direct:wf.${header.routeKey}.${header.joinStep}").id("run-joined-step-started")
                    .endChoice()
                    // The last dependency to settle runs the step itself: nothing is left to wait for,
                    // so the aggregator's store, load, serialisation and completion round trips are spared.
                    // A completed dependency brought the context, read after it settled: when that shows
                    // every dependency settled, the joined step decides on it without asking again.
                    .when(everyDependencySettled::settledInCarriedContext)
                        .to(Sql.update("remove-join")).id("remove-partial-join-after-context")
                        .toD("direct:wf.${header.routeKey}.${header.joinStep}").id("run-joined-step-on-context")
                    .endChoice()
                    // a failed or skipped dependency brings no context: the database decides
                    .when(PredicateBuilder.and(PredicateBuilder.not(DependencyGate::carriesContext), everyDependencySettled))
                        .to(Sql.update("remove-join")).id("remove-partial-join")
                        .toD("direct:wf.${header.routeKey}.${header.joinStep}").id("run-joined-step")
                    .endChoice()
                    // not settled in the context carried: it may be stale (another dependency settling at
                    // the same moment), so the aggregator's completion check asks the database
                    .otherwise()
                        // the context predates the other dependencies: the joined step reads its own
                        .removeProperty(Headers.CONTEXT_ROWS)
                        .aggregate(header(JOIN_KEY), new JoinArrivals()).id("join")
                            .aggregationRepository(new JoinRepository(dataSource, REPOSITORY))
                            .optimisticLocking()
                            .optimisticLockRetryPolicy(joinConflictRetries())
                            // a dependency may settle between the check above and this one
                            .completionPredicate(everyDependencySettled)
                            // the completed join runs on the thread of the arrival that completed it, inside
                            // that message's transaction, instead of queueing behind every other join of the
                            // JVM on the aggregator's single completion thread
                            .executorService(new SynchronousExecutorService())
                            .process(this::routeToItsVersion)
                            .toD("direct:wf.${header.routeKey}.${header.joinStep}")
                        .end()
                    .endChoice()
                .end();

        from(Endpoints.sweep(STALE_JOIN_SWEEP_MS, 1))
                .routeId("coordinator.stale-joins")
                .routeDescription("removes partial joins left behind by a fan-in that completed through another arrival")
                .to(Sql.update("delete-stale-joins"));
    }
}
