package dev.agentcoordinator.ops;

import dev.agentcoordinator.engine.Endpoints;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * What is waiting, refreshed every {@code coordinator.metrics.refresh-ms} from PostgreSQL and the
 * broker (shared by all coordinator instances, so every instance reports the same values):
 * {@code coordinator_executions_in_flight{workflow}} (running or compensating),
 * {@code coordinator_steps_waiting{agent}} (attempts sent, no reply yet) and
 * {@code coordinator_queue_depth{queue}} and {@code coordinator_queue_consumers{queue}} (messages waiting on the
 * coordinator's queues and consumers attached to them, see {@link QueueDepths}). An agent's queue where requests wait
 * and no agent listens is logged (a stopped agent, or an agent name the workflow spells otherwise than the agent),
 * once, and again when an agent listens or no request waits any more: otherwise each attempt only times out.
 */
public final class BacklogGauges implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(BacklogGauges.class);
    /** Per workflow: executions in flight, and the age of the oldest (seconds since its start, or its retry). */
    private static final String IN_FLIGHT = "SELECT workflow_id, count(*), EXTRACT(EPOCH FROM now() - min(COALESCE(retried_at, started_at)))"
            + " FROM workflow_executions WHERE status IN ('running', 'compensating') GROUP BY workflow_id";
    /**
     * Per agent: attempts waiting for its reply, and the age of the oldest (seconds since the attempt started: its row
     * in step_attempts, as the step row's started_at stays the first attempt's through a retry).
     */
    private static final String WAITING = "SELECT s.agent, count(*), EXTRACT(EPOCH FROM now() - min(COALESCE(a.started_at, s.started_at)))"
            + " FROM workflow_step_executions s LEFT JOIN step_attempts a ON a.step_execution_id = s.id AND a.attempt = s.attempt"
            + " WHERE s.status = 'running' GROUP BY s.agent";

    private final DataSource dataSource;
    /** The database reads of a refresh, on a thread of their own and bounded: see the constructor. */
    private final BoundedCheck databaseReads;
    /** The workflows and agents to report, asked at each refresh: a reload of the workflows may change them. */
    private final java.util.function.Supplier<? extends Collection<String>> workflows;
    private final java.util.function.Supplier<? extends Collection<String>> agents;
    private final QueueDepths queueDepths;
    private final MultiGauge inFlight;
    private final MultiGauge inFlightOldest;
    private final MultiGauge waiting;
    private final MultiGauge waitingOldest;
    private final MultiGauge queueDepth;
    private final MultiGauge queueConsumers;
    /** The agents' queues found with requests waiting and no consumer at the last refresh, and told of. */
    private final Set<String> unattended = new TreeSet<>();
    private final Set<String> toldOf = new TreeSet<>();
    private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread thread = new Thread(r, "coordinator-backlog-gauges");
        thread.setDaemon(true);
        return thread;
    });

    public BacklogGauges(MeterRegistry registry, DataSource dataSource, Collection<String> workflows,
                         Collection<String> agents, QueueDepths queueDepths, long readTimeoutMs) {
        this(registry, dataSource, () -> workflows, () -> agents, queueDepths, readTimeoutMs);
    }

    /**
     * {@code readTimeoutMs} bounds the database reads of one refresh (coordinator.health.timeout-ms): a database that
     * hangs without refusing connections (SIGSTOP, a network partition) would otherwise hold the refresh for the pool's
     * connection timeout or the driver's socket timeout (30 to 60 s), with the last values left standing meanwhile.
     */
    public BacklogGauges(MeterRegistry registry, DataSource dataSource, java.util.function.Supplier<? extends Collection<String>> workflows,
                         java.util.function.Supplier<? extends Collection<String>> agents, QueueDepths queueDepths,
                         long readTimeoutMs) {
        this.databaseReads = new BoundedCheck("gauges-database", readTimeoutMs);
        this.dataSource = dataSource;
        this.workflows = workflows;
        this.agents = agents;
        this.queueDepths = queueDepths;
        this.inFlight = MultiGauge.builder("coordinator_executions_in_flight")
                .description("executions running or compensating (all instances)").register(registry);
        this.inFlightOldest = MultiGauge.builder("coordinator_executions_in_flight_oldest_seconds")
                .description("age of the oldest execution running or compensating, since its start or last retry (0: none)").register(registry);
        this.waiting = MultiGauge.builder("coordinator_steps_waiting")
                .description("step attempts sent to an agent and not answered yet (all instances)").register(registry);
        this.waitingOldest = MultiGauge.builder("coordinator_steps_waiting_oldest_seconds")
                .description("age of the oldest step attempt sent to the agent and not answered yet (0: none)").register(registry);
        this.queueDepth = MultiGauge.builder("coordinator_queue_depth")
                .description("messages waiting on the broker queue").register(registry);
        this.queueConsumers = MultiGauge.builder("coordinator_queue_consumers")
                .description("consumers attached to the broker queue (agents on an agent's queue)").register(registry);
    }

    public BacklogGauges start(long periodMs) {
        scheduler.scheduleWithFixedDelay(this::refresh, 0, periodMs, TimeUnit.MILLISECONDS);
        return this;
    }

    /** Whether the last refresh from the database, and from the broker, failed (only the refresh thread uses them). */
    private boolean databaseFailed;
    private boolean brokerFailed;

    /**
     * A refresh that fails takes its gauges away rather than leaving the last values standing, so that
     * dashboards and alerts on their absence see the outage; the first failure and the recovery are logged.
     */
    void refresh() {
        Collection<String> workflowIds = workflows.get();
        Collection<String> agentNames = agents.get();
        List<Map<String, Backlog>> read = new ArrayList<>();
        String problem = databaseReads.run(() -> {
            read.add(backlogBy(IN_FLIGHT, workflowIds));
            read.add(backlogBy(WAITING, agentNames));
            return null;
        });
        if (problem == null && read.size() == 2) {
            inFlight.register(rows("workflow", read.get(0), Backlog::count), true);
            inFlightOldest.register(rows("workflow", read.get(0), Backlog::oldestSeconds), true);
            waiting.register(rows("agent", read.get(1), Backlog::count), true);
            waitingOldest.register(rows("agent", read.get(1), Backlog::oldestSeconds), true);
            databaseFailed = recovered(databaseFailed, "executions in flight and steps waiting");
        } else {
            inFlight.register(List.of(), true);
            inFlightOldest.register(List.of(), true);
            waiting.register(List.of(), true);
            waitingOldest.register(List.of(), true);
            databaseFailed = failed(databaseFailed, "coordinator_executions_in_flight and coordinator_steps_waiting",
                    problem == null ? "no counts read" : problem);
        }
        try {
            Map<String, QueueDepths.Counts> queues = queueDepths.read();
            Map<String, Long> messages = new LinkedHashMap<>();
            Map<String, Long> consumers = new LinkedHashMap<>();
            queues.forEach((queue, counts) -> {
                messages.put(queue, counts.messages());
                consumers.put(queue, counts.consumers());
            });
            queueDepth.register(rows("queue", messages, Long::doubleValue), true);
            queueConsumers.register(rows("queue", consumers, Long::doubleValue), true);
            noteUnattended(queues);
            brokerFailed = recovered(brokerFailed, "queue depths");
        } catch (Exception e) {
            queueDepth.register(List.of(), true);
            queueConsumers.register(List.of(), true);
            brokerFailed = failed(brokerFailed, "coordinator_queue_depth and coordinator_queue_consumers (a standalone broker"
                    + " needs the manage permission for them)", e.toString());
        }
    }

    /** Warns of each agent's queue where requests wait and no agent listens, two refreshes in a row; tells when it is over. */
    private void noteUnattended(Map<String, QueueDepths.Counts> queues) {
        for (String agent : agents.get()) {
            String queue = Endpoints.agentQueue(agent);
            QueueDepths.Counts counts = queues.get(queue);
            if (counts == null) {
                continue;   // not known this time: as it was
            }
            if (counts.messages() > 0 && counts.consumers() == 0) {
                // told at the second refresh in a row: an agent connecting at start, or restarting, is no news
                if (!unattended.add(queue) && toldOf.add(queue)) {
                    LOG.warn("{}: {} request(s) wait and no agent listens on it: is agent \"{}\" running, and named as the"
                            + " workflows name it? Each attempt times out until one listens", queue, counts.messages(), agent);
                }
            } else if (counts.consumers() > 0) {
                unattended.remove(queue);
                if (toldOf.remove(queue)) {
                    LOG.info("{}: {} agent consumer(s) listen on it again", queue, counts.consumers());
                }
            } else if (!toldOf.contains(queue)) {
                // emptied with nobody listening (its attempts timed out and their requests were taken back): once told,
                // it stays told until an agent listens, or the WARN came again each time the queue emptied and filled
                unattended.remove(queue);
            }
        }
    }

    private static boolean failed(boolean before, String gauges, String why) {
        if (!before) {
            LOG.warn("{} not refreshed, left out until they can be: {}", gauges, why);
        }
        return true;
    }

    private static boolean recovered(boolean before, String what) {
        if (before) {
            LOG.info("{} refreshed again", what);
        }
        return false;
    }

    /** How many wait under one key, and how long the one waiting longest has (seconds). */
    private record Backlog(long count, double oldestSeconds) {
        static final Backlog NONE = new Backlog(0, 0);
    }

    /** The backlog per key, with none for every known key that has no row (so a gauge drops to 0, not away). */
    private Map<String, Backlog> backlogBy(String sql, Collection<String> knownKeys) throws Exception {
        Map<String, Backlog> backlog = new LinkedHashMap<>();
        knownKeys.forEach(key -> backlog.put(key, Backlog.NONE));
        try (Connection connection = dataSource.getConnection();
             PreparedStatement statement = connection.prepareStatement(sql);
             ResultSet rs = statement.executeQuery()) {
            while (rs.next()) {
                backlog.put(rs.getString(1), new Backlog(rs.getLong(2), Math.max(0, rs.getDouble(3))));
            }
        }
        return backlog;
    }

    private static <V> List<MultiGauge.Row<?>> rows(String tag, Map<String, V> values, java.util.function.ToDoubleFunction<V> value) {
        List<MultiGauge.Row<?>> rows = new ArrayList<>();
        values.forEach((key, backlog) -> rows.add(MultiGauge.Row.of(Tags.of(tag, key), value.applyAsDouble(backlog))));
        return rows;
    }

    @Override
    public void close() {
        scheduler.shutdownNow();
        databaseReads.close();
    }
}
