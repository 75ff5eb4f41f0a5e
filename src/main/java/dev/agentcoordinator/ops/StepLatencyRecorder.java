package dev.agentcoordinator.ops;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;

/**
 * Time from dispatch to reply (or timeout) of a step attempt, per agent and action, read from the
 * attempt's row in {@code step_attempts} (written by the database's own trigger) on a background
 * thread, so that routing never waits for a metric.
 */
public final class StepLatencyRecorder implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(StepLatencyRecorder.class);
    private static final String LAST_ATTEMPT = """
            SELECT s.agent, s.action,
                   EXTRACT(EPOCH FROM (COALESCE(a.completed_at, now()) - a.started_at)) * 1000 AS millis
              FROM step_attempts a JOIN workflow_step_executions s ON s.id = a.step_execution_id
             WHERE a.step_execution_id = ?
             ORDER BY a.attempt DESC LIMIT 1""";

    /** Histogram buckets: agents answer in milliseconds (rules) to minutes (LLM calls). */
    private static final Duration[] BUCKETS = {Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(250),
            Duration.ofMillis(500), Duration.ofSeconds(1), Duration.ofMillis(2500), Duration.ofSeconds(5), Duration.ofSeconds(10),
            Duration.ofSeconds(30), Duration.ofMinutes(1), Duration.ofMinutes(5)};

    private final DataSource dataSource;
    private final MeterRegistry registry;
    private final java.util.concurrent.ConcurrentMap<String, Timer> timers = new java.util.concurrent.ConcurrentHashMap<>();
    /** One thread; at most 10,000 lookups wait (a burst of timeouts), the ones over that are dropped: a metric only. */
    private final ExecutorService executor = new java.util.concurrent.ThreadPoolExecutor(1, 1, 0, java.util.concurrent.TimeUnit.MILLISECONDS,
            new java.util.concurrent.ArrayBlockingQueue<>(10_000), r -> {
                Thread thread = new Thread(r, "coordinator-step-latency");
                thread.setDaemon(true);
                return thread;
            }, new java.util.concurrent.ThreadPoolExecutor.DiscardPolicy());

    public StepLatencyRecorder(DataSource dataSource, MeterRegistry registry) {
        this.dataSource = dataSource;
        this.registry = registry;
    }

    void record(String stepRowId, String outcome) {
        try {
            executor.execute(() -> lookUpAndRecord(stepRowId, outcome));
        } catch (RejectedExecutionException stopping) {
            // shutting down: the observation is dropped
        }
    }

    private void lookUpAndRecord(String stepRowId, String outcome) {
        try (Connection connection = dataSource.getConnection();
             PreparedStatement statement = connection.prepareStatement(LAST_ATTEMPT)) {
            statement.setString(1, stepRowId);
            try (ResultSet rs = statement.executeQuery()) {
                if (rs.next()) {
                    record(rs.getString("agent"), rs.getString("action"), outcome,
                            Duration.ofNanos((long) (rs.getDouble("millis") * 1_000_000)));
                }
            }
        } catch (Exception e) {
            LOG.debug("step latency of {} not recorded: {}", stepRowId, e.toString());
        }
    }

    /** Records an attempt whose agent, action and duration are already known (a reply's). */
    void record(String agent, String action, String outcome, Duration duration) {
        // cached: building the timer validated its buckets and searched the registry on every reply
        timers.computeIfAbsent(agent + '\u0000' + action + '\u0000' + outcome, key -> Timer.builder("coordinator_step_duration")
                        .description("time from dispatch to the agent's reply or the attempt's timeout")
                        .tags("agent", agent, "action", action, "outcome", outcome)
                        .serviceLevelObjectives(BUCKETS)
                        .register(registry))
                .record(duration);
    }

    @Override
    public void close() {
        executor.shutdownNow();
    }
}
