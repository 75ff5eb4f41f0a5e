package dev.agentcoordinator.engine;

import dev.agentcoordinator.definition.WorkflowCatalog;
import dev.agentcoordinator.locks.AcquireResult;
import dev.agentcoordinator.locks.LockHolder;
import dev.agentcoordinator.locks.LockPriorities;
import dev.agentcoordinator.locks.LockRequest;
import dev.agentcoordinator.locks.LockSql;
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

    /** Header of waiting-lock-steps.sql: the agents' priorities as JSON. */
    private static final String LOCK_PRIORITIES = "lockPriorities";
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(LockRoutes.class);

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
                .setHeader(LOCK_PRIORITIES, constant(Json.write(priorities.asMap())))
                .to(Sql.rows("waiting-lock-steps"))
                .removeHeader(LOCK_PRIORITIES)
                .process(this::noteBlockedWithoutATry)
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

    /**
     * A waiter whose try cannot succeed is noted without one: one of its locks is held, in force, by a holder of its
     * priority or higher that is not itself (waiting-lock-steps.sql's {@code blocked_by}), and acquire-lock.sql would not
     * give it that lock. A try is a pass through its step route (its context loaded, the waiter query, the acquisition
     * rolled back, the note written); 300 waiters of a held resource made a sweep as long as its period. Noting it as the
     * try would have (note-blocked-waiter.sql: the first of those locks in the order a try takes them, its holder, and
     * updated_at, which says it was tried) decides nothing differently: the try would have failed at that moment, and a
     * lock that comes free during the sweep is tried for at the next one, when the waiter is no longer blocked (as if its
     * try had come before the release). Only waiters of versions this instance runs, as the tries: a waiter no running
     * coordinator tries must age out (find-lock-waiters.sql). The note names the holder, where the try might have named a
     * higher waiter it yields to first ("waited for first by …"): the resource is not free, and both wait for the holder.
     */
    @SuppressWarnings("unchecked")
    private void noteBlockedWithoutATry(Exchange exchange) throws java.sql.SQLException {
        List<Map<String, Object>> rows = exchange.getMessage().getBody(List.class);
        List<Map<String, Object>> tried = new ArrayList<>(rows.size());
        List<BlockedWaiter> noted = new ArrayList<>();
        for (Map<String, Object> row : rows) {
            AcquireResult.Blocked blocked = row.get("blocked_by") == null || !"step".equals(row.get("kind")) || !runsHere(row)
                    ? null : firstBlocking((String) row.get("blocked_by"));
            if (blocked == null) {
                tried.add(row);
            } else {
                noted.add(new BlockedWaiter((String) row.get("waiter_row_id"), blocked));
            }
        }
        if (!noted.isEmpty()) {
            // one batch (one implicit transaction), its rows in one order: two coordinators' sweeps do not deadlock on them
            noted.sort(Comparator.comparing(BlockedWaiter::rowId));
            javax.sql.DataSource dataSource = exchange.getContext().getRegistry().findSingleByType(javax.sql.DataSource.class);
            try (java.sql.Connection connection = dataSource.getConnection();
                 java.sql.PreparedStatement statement = connection.prepareStatement(LockSql.named("note-blocked-waiter"))) {
                connection.setAutoCommit(true);
                for (BlockedWaiter waiter : noted) {
                    waiter.bind(statement);
                    statement.addBatch();
                }
                statement.executeBatch();
            } catch (java.sql.SQLException e) {
                if (!"40P01".equals(e.getSQLState()) && !(e.getNextException() != null && "40P01".equals(e.getNextException().getSQLState()))) {
                    throw e;
                }
                // a deadlock with a statement that moves several of them (nothing was noted): they are tried as before
                LOG.debug("lock sweep: noting {} blocked waiters deadlocked; they are tried", noted.size(), e);
                tried.clear();
                tried.addAll(rows);   // highestPriorityFirst orders them
                noted.clear();
            }
        }
        LOG.debug("lock sweep: {} waiters, {} noted without a try (held by a holder they cannot take it from), {} tried",
                rows.size(), noted.size(), tried.size());
        exchange.getMessage().setBody(tried);
    }

    private boolean runsHere(Map<String, Object> row) {
        Object version = row.get("workflow_version");   // as rowToHeaders and RouteKeys find the route of a try
        return catalog.forVersion((String) row.get("workflow_id"), version instanceof Number number ? number.intValue() : null).isPresent();
    }

    /** A waiter noted without a try: its row, and the first lock that blocks it. */
    private record BlockedWaiter(String rowId, AcquireResult.Blocked blocked) {
        /**
         * note-blocked-waiter.sql's parameters: the note, the row, and the holder that must still hold the lock (one that
         * let go since the sweep read it leaves the waiter to its try at the next sweep: noted as tried after its time ran
         * out, it would fail for a lock already free).
         */
        void bind(java.sql.PreparedStatement statement) throws java.sql.SQLException {
            statement.setString(1, blocked.describe());
            statement.setString(2, rowId);
            statement.setString(3, blocked.request().resourceType());
            statement.setString(4, blocked.request().resourceId());
            statement.setString(5, blocked.holder().executionId());
            statement.setString(6, blocked.holder().stepId());
        }
    }

    /** What blocks a try by these holders: the first of their locks in the order a try takes them (LockRequest's). */
    static AcquireResult.Blocked firstBlocking(String blockedByJson) {
        AcquireResult.Blocked first = null;
        for (com.fasterxml.jackson.databind.JsonNode holder : Json.parse(blockedByJson)) {
            LockRequest request = new LockRequest(holder.path("resource_type").asText(), holder.path("resource_id").asText(), 1);
            if (first == null || request.compareTo(first.request()) < 0) {
                first = new AcquireResult.Blocked(request,
                        new LockHolder(holder.path("locked_by").asText(), holder.path("priority").asInt(),
                                holder.path("execution_id").asText(), holder.path("step_id").asText()),
                        java.time.OffsetDateTime.parse(holder.path("expires_at").asText()).toInstant());
            }
        }
        return first;
    }

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
