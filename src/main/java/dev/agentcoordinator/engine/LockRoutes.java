package dev.agentcoordinator.engine;

import dev.agentcoordinator.definition.WorkflowCatalog;
import dev.agentcoordinator.locks.LockPriorities;
import org.apache.camel.Exchange;
import org.apache.camel.LoggingLevel;
import org.apache.camel.builder.RouteBuilder;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

import static dev.agentcoordinator.engine.Headers.*;

/**
 * The lock sweep: steps waiting for a resource lock ({@link LockedStepStart}) go through their step
 * route again every period, until they get their locks; a step that waited longer than its timeout
 * fails, naming the lock and its holder, and its dependents are decided as after any failure. A
 * compensation waiting for the locks of the step it undoes goes through its execution's compensate
 * route instead, which tries them again or, once it failed, goes on with the saga.
 */
public class LockRoutes extends RouteBuilder {
    /** Header on a step exchange that comes from the sweep (the first wait was logged already): the step id of the row it tries again. */
    public static final String LOCK_RETRY = "lockRetry";

    private final WorkflowCatalog catalog;
    private final long periodMs;
    private final org.apache.camel.Processor hold;
    private final LockPriorities priorities;
    private final java.util.function.BooleanSupplier brokerUnreachable;

    /**
     * {@code hold}: sets how long past its deadline a wait must be before it fails ({@link ReplyBacklog#holdSweep});
     * {@code brokerUnreachable}: whether the broker is known to be unreachable ({@link ReplyBacklog#isBrokerUnreachable}).
     */
    public LockRoutes(WorkflowCatalog catalog, long periodMs, org.apache.camel.Processor hold, LockPriorities priorities,
                      java.util.function.BooleanSupplier brokerUnreachable) {
        this.catalog = catalog;
        this.periodMs = periodMs;
        this.hold = hold;
        this.priorities = priorities;
        this.brokerUnreachable = brokerUnreachable;
    }

    @Override
    public void configure() {
        from(Endpoints.sweep(periodMs, 2))
                .routeId("coordinator.locks.waiting")
                .routeDescription("steps waiting for a resource lock try again")
                // as the retry sweep: while the broker cannot be reached, an attempt started now would hold its locks and
                // run its time out before its request left (a chaos run: 7 attempts no agent ever saw, their waiters failed)
                .filter(exchange -> !brokerUnreachable.getAsBoolean())
                .setHeader(SWEEP_LIMIT, constant(Endpoints.SWEEP_ROWS))
                .to(Sql.rows("waiting-lock-steps"))
                .process(this::highestPriorityFirst)
                .split(body())
                    .process(this::rowToHeaders)
                    // a batch under way when the broker went: the rest wait for the next run
                    .filter(exchange -> exchange.getMessage().getHeader(ROUTE_KEY) != null && !brokerUnreachable.getAsBoolean())
                        // a compensate pass for one waiting row may start another one's first wait
                        .setHeader(LOCK_RETRY, header(STEP_ID))
                        .choice()
                            .when(header("kind").isEqualTo("compensation"))
                                .toD("direct:wf.${header.routeKey}~compensate")
                            .otherwise()
                                .toD("direct:wf.${header.routeKey}.${header.stepId}")
                        .end()
                    .end()
                .end();

        from(Endpoints.sweep(periodMs, 3))
                .routeId("coordinator.locks.wait-timeouts")
                .routeDescription("steps that waited for a lock longer than their timeout fail")
                // as attempt timeouts: the holder's reply that releases the lock may still be queued
                .process(hold)
                .setHeader(SWEEP_LIMIT, constant(Endpoints.SWEEP_ROWS))
                .to(Sql.rows("expire-lock-waits"))
                .split(body())
                    .process(this::rowToHeaders)
                    .choice()
                        .when(header("kind").isEqualTo("compensation"))
                            .log(LoggingLevel.WARN, Endpoints.PROGRESS_LOG, "compensation of ${header.stepId} failed: ${header.error} [execution ${header.executionId}]")
                            .filter(header(ROUTE_KEY).isNotNull())
                                .toD("direct:wf.${header.routeKey}~compensate")
                            .end()
                        .endChoice()
                        .otherwise()
                            .log(LoggingLevel.WARN, Endpoints.PROGRESS_LOG, "step ${header.stepId} failed: ${header.error} [execution ${header.executionId}]")
                            .filter(header(ROUTE_KEY).isNotNull())
                                .toD("direct:wf.${header.routeKey}.${header.stepId}.done")
                            .end()
                    .end()
                .end();
    }

    /** Only workflow versions this instance runs (a route key): another instance with other definitions takes the rest. */
    /**
     * The waiters of a lock that came free are tried one after the other: the highest priority first, so that it
     * gets the lock. A lower one tried first would take it, have its request sent, and lose the lock a moment later
     * to the higher one (a preemption), both agents then working on the resource at once. Equal priorities keep
     * the statement's order.
     */
    @SuppressWarnings("unchecked")
    private void highestPriorityFirst(Exchange exchange) {
        List<Map<String, Object>> rows = new ArrayList<>(exchange.getMessage().getBody(List.class));
        rows.sort(Comparator.comparingInt((Map<String, Object> row) -> priorities.of((String) row.get("waiting_agent"))).reversed());
        exchange.getMessage().setBody(rows);
    }

    private void rowToHeaders(Exchange exchange) {
        SupervisorRoutes.rowToHeaders(exchange, catalog);
    }
}
