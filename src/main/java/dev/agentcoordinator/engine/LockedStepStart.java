package dev.agentcoordinator.engine;

import com.fasterxml.jackson.databind.JsonNode;
import dev.agentcoordinator.config.CoordinatorSettings;
import dev.agentcoordinator.definition.LockSpec;
import dev.agentcoordinator.definition.WorkflowDefinition;
import dev.agentcoordinator.definition.WorkflowStep;
import dev.agentcoordinator.locks.AcquireResult;
import dev.agentcoordinator.locks.LockHolder;
import dev.agentcoordinator.locks.LockPriorities;
import dev.agentcoordinator.locks.LockRequest;
import dev.agentcoordinator.locks.LockSql;
import dev.agentcoordinator.locks.ResourceLockStore;
import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Starts a step that declares {@code locks}: in one transaction it takes every lock (in a fixed
 * order) and marks the step running, so a step either runs holding all its locks or holds none.
 * When a holder of equal or higher priority has one of them, the step stays pending with a
 * {@code waiting_for} note; the lock sweep ({@link LockRoutes}) sends it through its route again
 * until it gets the locks or its timeout passes. Used instead of mark-running.sql; steps without
 * locks never come here.
 */
public final class LockedStepStart {
    /** Header: the step's resolved {@code List<LockRequest>} (set when it is decided to run). */
    public static final String LOCK_REQUESTS = "lockRequests";
    /** Header: why the locks could not be named (a resource id without value). */
    public static final String LOCK_ERROR = "lockError";
    /** Header set by {@link #start}: {@code running}, {@code waiting}, {@code failed} or {@code not-applied}. */
    public static final String LOCK_OUTCOME = "lockOutcome";

    /** The longest resource id a lock can name (the column's size). */
    static final int MAX_RESOURCE_ID_LENGTH = 255;

    private static final Logger PROGRESS = LoggerFactory.getLogger(Endpoints.PROGRESS_LOG);

    private final WorkflowStep step;
    /** The agent the locks are held as (the step's, or its compensation's), whose priority they take. */
    private final String holderAgent;
    private final long defaultTtlMs;
    /** Starts the compensation of the step rather than the step (mark-compensation-running-with-locks.sql). */
    private final boolean compensation;
    private volatile Services services;

    public LockedStepStart(WorkflowDefinition workflow, WorkflowStep step) {
        this(step, step.agent(), workflow.attemptTimeoutMs(step), false);
    }

    private LockedStepStart(WorkflowStep step, String holderAgent, long defaultTtlMs, boolean compensation) {
        this.step = step;
        this.holderAgent = holderAgent;
        this.defaultTtlMs = defaultTtlMs;
        this.compensation = compensation;
    }

    /**
     * Starts the compensation of a step that declares locks: it takes the step's locks as its compensating agent,
     * so that an undo does not run beside another execution's step on the same resource (it waits for it, pending,
     * as a step does), and releases them when it settles.
     */
    public static LockedStepStart ofCompensation(WorkflowDefinition workflow, WorkflowStep step) {
        return new LockedStepStart(step, step.compensate().agent(), workflow.compensationTimeoutMs(step), true);
    }

    /** Names the step's locks from the execution's context; sets {@link #LOCK_REQUESTS} or {@link #LOCK_ERROR}. */
    public void resolve(ExecutionContext context, Message in) {
        List<LockRequest> requests = new ArrayList<>();
        for (int i = 0; i < step.locks().size(); i++) {
            LockSpec lock = step.locks().get(i);
            JsonNode id = InputResolver.resolve(Map.of("resource_id", lock.resourceId()), context).get("resource_id");
            if (id == null || id.isNull() || id.isContainerNode() || id.asText().isBlank()) {
                // what it found, when it found something: an object, a list or blank text names no one resource
                in.setHeader(LOCK_ERROR, "locks[" + i + "] (" + lock.resourceType() + "): resource_id " + describe(lock)
                        + (id == null || id.isNull() ? " has no value in this execution"
                           : " is " + (id.isObject() ? "an object" : id.isArray() ? "a list" : "blank text") + " in this execution,"
                             + " and a lock names its resource by a string or a number"));
                return;
            }
            if (id.asText().length() > MAX_RESOURCE_ID_LENGTH) {   // resource_locks.resource_id is a varchar(255)
                in.setHeader(LOCK_ERROR, "locks[" + i + "] (" + lock.resourceType() + "): resource_id " + describe(lock)
                        + " is " + id.asText().length() + " characters long in this execution, at most " + MAX_RESOURCE_ID_LENGTH);
                return;
            }
            requests.add(new LockRequest(lock.resourceType(), id.asText(), lock.ttlMs() != null ? lock.ttlMs() : defaultTtlMs));
        }
        requests.sort(null);
        in.setHeader(LOCK_REQUESTS, distinct(requests));
    }

    /**
     * One request per resource: two lock entries that name the same resource in this execution take one lock
     * (for the longer of their ttls), which a loop then counts as one when it renews it (V30).
     */
    private static List<LockRequest> distinct(List<LockRequest> sorted) {
        List<LockRequest> distinct = new ArrayList<>(sorted.size());
        for (LockRequest request : sorted) {
            int last = distinct.size() - 1;
            if (last >= 0 && distinct.get(last).compareTo(request) == 0) {
                if (request.ttlMs() > distinct.get(last).ttlMs()) {
                    distinct.set(last, request);
                }
            } else {
                distinct.add(request);
            }
        }
        return distinct;
    }

    /**
     * Replaces mark-running.sql: on success the body is the running row (attempt, iteration, deadline,
     * context) and {@code CamelSqlRowCount} is 1, as the SQL component would leave it.
     */
    @SuppressWarnings("unchecked")
    public void start(Exchange exchange) throws SQLException {
        Message in = exchange.getMessage();
        Services s = services(exchange.getContext());
        String rowId = in.getHeader(Headers.ROW_ID, String.class);
        in.setBody(null);
        in.setHeader(Headers.SQL_ROW_COUNT, 0);
        String unresolved = in.getHeader(LOCK_ERROR, String.class);
        if (unresolved != null) {
            boolean failed = s.update("fail-pending-step", unresolved, rowId) > 0;
            in.setHeader(Headers.ERROR, unresolved);
            in.setHeader(LOCK_OUTCOME, failed ? "failed" : "not-applied");
            return;
        }
        List<LockRequest> requests = in.getHeader(LOCK_REQUESTS, List.class);
        LockHolder holder = new LockHolder(holderAgent, s.priorities.of(holderAgent),
                in.getHeader(Headers.EXECUTION_ID, String.class), step.id());
        // a step yields to a step waiting for one of its locks ahead of it, which would otherwise preempt it a moment after
        // its request went out (two agents then working on the resource): a first try to one of a higher or equal priority
        // (of equal priority, that one would otherwise wait on behind every newcomer), the lock sweep's try to one of a
        // higher priority (a lock freed between that one's try and this one's in a sweep, or one that a waiter of two locks,
        // blocked on the other, needs too); equal priorities take turns in the sweep's order
        boolean sweepTry = step.id().equals(in.getHeader(LockRoutes.LOCK_RETRY, String.class));
        String waitingFor = take(s, in, rowId, requests, holder, sweepTry ? holder.priority() + 1L : holder.priority());
        if ("running".equals(in.getHeader(LOCK_OUTCOME, String.class))) {
            return;
        }
        if (waitingFor != null && s.update("note-waiting", waitingFor, waitingLocks(requests), rowId) > 0) {
            in.setHeader(LOCK_OUTCOME, "waiting");
            in.setHeader(Headers.REASON, waitingFor);
        } else {
            in.setHeader(LOCK_OUTCOME, "not-applied");
        }
    }

    /**
     * Takes every lock of the step and marks it running, in one transaction: the step runs ({@code LOCK_OUTCOME}
     * "running", the row in the body), unless a step of at least {@code yieldTo} priority waits for one of them. Otherwise
     * nothing is kept, and what it waits for is returned (null when the row was no longer pending).
     */
    private String take(Services s, Message in, String rowId, List<LockRequest> requests, LockHolder holder, long yieldTo)
            throws SQLException {
        String waitingFor;
        try (Connection connection = s.dataSource.getConnection()) {
            // before taking them (a lock this step holds already, a renewal, is no lock it waits for), and outside their
            // transaction, whose start is the step's started_at: begun before a holder's release committed, it would
            // precede that holder's completed_at
            waitingFor = waiterAhead(connection, s, requests, holder, rowId, yieldTo);
            if (waitingFor != null) {
                return waitingFor;
            }
            connection.setAutoCommit(false);
            Throwable failure = null;   // what a failing rollback must not hide
            try {
                List<AcquireResult.Acquired> acquired = new ArrayList<>();
                for (LockRequest request : requests) {
                    AcquireResult result = s.store.acquire(connection, holder, request);
                    if (result instanceof AcquireResult.Blocked blocked) {
                        waitingFor = blocked.describe();
                        break;
                    }
                    acquired.add((AcquireResult.Acquired) result);
                }
                Map<String, Object> row = waitingFor == null ? markRunning(connection, in, rowId, requests) : null;
                if (row == null) {
                    connection.rollback();
                } else {
                    connection.commit();
                    in.setBody(row);
                    in.setHeader(Headers.SQL_ROW_COUNT, 1);
                    in.setHeader(LOCK_OUTCOME, "running");
                    if (s.listener != null && !compensation) {
                        s.listener.startedWithLocks(in.getHeader(Headers.WORKFLOW_ID, String.class), step.id());
                    }
                    logPreemptions(acquired, holder);
                    return null;
                }
            } catch (SQLException e) {
                failure = e;
                rollbackKeeping(connection, e);
                if (!"40P01".equals(e.getSQLState())) {   // a deadlock between two acquirers: just wait and retry
                    throw e;
                }
                failure = null;
                waitingFor = "locks " + requests + " (a concurrent acquirer was in the way)";
            } catch (RuntimeException | Error e) {
                failure = e;
                rollbackKeeping(connection, e);   // not the commit that turning auto-commit back on would make
                throw e;
            } finally {
                if (failure == null) {
                    connection.setAutoCommit(true);
                } else {
                    restoreAutoCommitKeeping(connection, failure);
                }
            }
        }
        return waitingFor;
    }

    /** Every lock the step asks for, as note-waiting.sql keeps them: [[resource_type, resource_id], ...]. */
    private static String waitingLocks(List<LockRequest> requests) {
        com.fasterxml.jackson.databind.node.ArrayNode locks = Json.array();
        for (LockRequest request : requests) {
            locks.addArray().add(request.resourceType()).add(request.resourceId());
        }
        return Json.write(locks);
    }

    /** A waiter of one of the locks with at least {@code yieldTo} priority, as the step's note names it; null when none waits. */
    private static String waiterAhead(Connection connection, Services s, List<LockRequest> requests, LockHolder holder, String rowId,
                                      long yieldTo) throws SQLException {
        if (yieldTo > s.highestPriority) {
            return null;   // nobody can wait ahead of it
        }
        try (PreparedStatement statement = connection.prepareStatement(LockSql.named("find-lock-waiters"))) {
            statement.setString(3, s.prioritiesJson);
            statement.setLong(4, yieldTo);
            statement.setLong(5, s.waitersTriedWithinMs);
            statement.setString(6, rowId);
            statement.setString(7, holder.executionId());
            statement.setString(8, holder.stepId());
            for (LockRequest request : requests) {
                statement.setString(1, request.resourceType());
                statement.setString(2, request.resourceId());
                try (ResultSet rs = statement.executeQuery()) {
                    if (rs.next()) {
                        return "lock " + request.resource() + " waited for first by " + rs.getString("agent") + " (priority "
                                + s.priorities.of(rs.getString("agent")) + ", execution " + rs.getString("execution_id") + ", step "
                                + rs.getString("step_id") + ")";
                    }
                }
            }
        }
        return null;
    }

    /**
     * A rollback after {@code failure}: one that fails too is kept with it, not in its place. A connection the pool
     * evicted on a lost database (SQL state 57P01, 08…) answers "Connection is closed", with no SQL state, which would
     * hide the outage from DatabaseUnreachable: an ERROR with its stack trace instead of a paused route (a chaos run
     * restarting PostgreSQL, 2026-12-06).
     */
    static void rollbackKeeping(Connection connection, Throwable failure) {
        try {
            connection.rollback();
        } catch (SQLException | RuntimeException e) {
            failure.addSuppressed(e);
        }
    }

    /** As {@link #rollbackKeeping}, for turning auto-commit back on before the connection returns to the pool. */
    private static void restoreAutoCommitKeeping(Connection connection, Throwable failure) {
        try {
            connection.setAutoCommit(true);
        } catch (SQLException | RuntimeException e) {
            failure.addSuppressed(e);
        }
    }

    /**
     * pending -> running in the transaction that took the locks: mark-running-with-locks.sql, or for a compensation
     * mark-compensation-running-with-locks.sql (no request context). The row as the statement returns it, as the
     * SQL component would leave it (mark-running.sql's columns, or mark-compensation-running.sql's); null when the
     * row no longer waited to start.
     */
    private Map<String, Object> markRunning(Connection connection, Message in, String rowId, List<LockRequest> locks) throws SQLException {
        String input = in.getHeader(Headers.INPUT, String.class);
        String cause = in.getHeader(Headers.CAUSE_MESSAGE_ID, String.class);   // twice: none means the request's lease (V27)
        List<Object> parameters = compensation
                ? java.util.Arrays.asList(input, locks.size(), waitingLocks(locks), cause, cause, rowId)
                : java.util.Arrays.asList(input, in.getHeader(Headers.REQUEST_CONTEXT, String.class), locks.size(), waitingLocks(locks),
                                          cause, cause, rowId);
        String statementName = compensation ? "mark-compensation-running-with-locks" : "mark-running-with-locks";
        try (PreparedStatement statement = connection.prepareStatement(LockSql.named(statementName))) {
            for (int i = 0; i < parameters.size(); i++) {
                if (parameters.get(i) instanceof Integer number) {
                    statement.setInt(i + 1, number);
                } else {
                    statement.setString(i + 1, (String) parameters.get(i));
                }
            }
            try (ResultSet rs = statement.executeQuery()) {
                if (!rs.next()) {
                    return null;
                }
                // a retry's or a later iteration's input is the row's, not the planner's (see the statements)
                in.setHeader(Headers.INPUT, rs.getString("input"));
                // every other column (a step's max_attempts among them: without it the request would carry the attempt
                // budget of the step whose reply started this one)
                Map<String, Object> row = new LinkedHashMap<>();
                java.sql.ResultSetMetaData columns = rs.getMetaData();
                for (int i = 1; i <= columns.getColumnCount(); i++) {
                    if (!"input".equals(columns.getColumnLabel(i))) {
                        row.put(columns.getColumnLabel(i), rs.getObject(i));
                    }
                }
                return row;
            }
        }
    }

    private void logPreemptions(List<AcquireResult.Acquired> acquired, LockHolder holder) {
        for (AcquireResult.Acquired lock : acquired) {
            if (lock.preempted() != null) {
                PROGRESS.warn("lock {} taken from {} by {} (LOCK_PREEMPTED signalled to execution {})",
                        lock.request().resource(), lock.preempted().describe(), holder.describe(), lock.preempted().executionId());
            }
        }
    }

    private static String describe(LockSpec lock) {
        if (lock.resourceId().fromTrigger() != null) {
            return "from_trigger " + lock.resourceId().fromTrigger();
        }
        return "from_step " + lock.resourceId().fromStep() + " output_key " + lock.resourceId().outputKey();
    }

    private Services services(CamelContext context) {
        Services current = services;
        if (current == null) {
            current = Services.of(context);
            services = current;
        }
        return current;
    }

    /**
     * What the start needs from the Camel registry: the database, the configured priorities (also as JSON, and the highest),
     * who is told of a start, and how lately a waiter of a version no live coordinator runs must have been tried to be one
     * that a step yields to (find-lock-waiters.sql): 50 supervisor periods (10 s by default).
     */
    private record Services(DataSource dataSource, ResourceLockStore store, LockPriorities priorities, LockedStartListener listener,
                            long waitersTriedWithinMs, String prioritiesJson, int highestPriority) {
        static Services of(CamelContext context) {
            DataSource dataSource = context.getRegistry().findSingleByType(DataSource.class);
            if (dataSource == null) {
                throw new IllegalStateException("no DataSource in the Camel registry: steps with locks cannot start");
            }
            CoordinatorSettings settings = context.getRegistry().findSingleByType(CoordinatorSettings.class);
            LockPriorities priorities = settings == null ? LockPriorities.specDefault() : settings.lockPriorities();
            return new Services(dataSource, new ResourceLockStore(dataSource), priorities,
                    context.getRegistry().findSingleByType(LockedStartListener.class),
                    50L * (settings == null ? 200 : settings.supervisorPeriodMs()), Json.write(priorities.asMap()),
                    priorities.asMap().values().stream().mapToInt(Integer::intValue).reduce(LockPriorities.UNLISTED, Math::max));
        }

        int update(String statementName, String... params) throws SQLException {
            try (Connection connection = dataSource.getConnection();
                 PreparedStatement statement = connection.prepareStatement(LockSql.named(statementName))) {
                for (int i = 0; i < params.length; i++) {
                    statement.setString(i + 1, params[i]);
                }
                return statement.executeUpdate();
            }
        }
    }
}
