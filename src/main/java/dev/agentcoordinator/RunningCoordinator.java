package dev.agentcoordinator;

import dev.agentcoordinator.config.CoordinatorSettings;
import dev.agentcoordinator.config.Secrets;
import dev.agentcoordinator.definition.WorkflowCatalog;
import dev.agentcoordinator.definition.WorkflowDefinition;
import dev.agentcoordinator.infra.CamelRuntime;
import dev.agentcoordinator.infra.Infrastructure;
import jakarta.jms.ConnectionFactory;
import org.apache.camel.CamelContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.sql.DataSource;

/**
 * A started coordinator: infrastructure, Camel and (optionally) the demo agents. Closing stops
 * Camel first (no new work is taken), then the demo agents, then broker and database.
 */
public final class RunningCoordinator implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(RunningCoordinator.class);

    private final CoordinatorSettings settings;
    private final WorkflowCatalog catalog;
    private final Infrastructure infra;
    private final CamelRuntime camel;
    private final AutoCloseable demoAgents;
    private final String httpUrl;
    /** Whether the broker is known to be unreachable now (the coordinator's watch of it). */
    private final java.util.function.BooleanSupplier brokerUnreachable;
    private boolean closed;

    RunningCoordinator(CoordinatorSettings settings, WorkflowCatalog catalog, Infrastructure infra,
                       CamelRuntime camel, AutoCloseable demoAgents, String httpUrl,
                       java.util.function.BooleanSupplier brokerUnreachable) {
        this.brokerUnreachable = brokerUnreachable;
        this.settings = settings;
        this.catalog = catalog;
        this.infra = infra;
        this.camel = camel;
        this.demoAgents = demoAgents;
        this.httpUrl = httpUrl;
    }

    public CamelContext camelContext() {
        return camel.context();
    }

    public DataSource dataSource() {
        return infra.dataSource();
    }

    /** The pooled JMS connection factory the coordinator uses (shared; do not close it). */
    public ConnectionFactory connectionFactory() {
        return infra.connectionFactory();
    }

    public String brokerUrl() {
        return infra.brokerUrl();
    }

    public String jdbcUrl() {
        return infra.jdbcUrl();
    }

    /** Base URL of the HTTP server, e.g. {@code http://127.0.0.1:8080} (the API is under /api). */
    public String httpUrl() {
        return httpUrl;
    }

    /** The settings it runs with; {@code httpPort()} is the real port even when 0 was configured. */
    public CoordinatorSettings settings() {
        return settings;
    }

    public WorkflowCatalog catalog() {
        return catalog;
    }

    /** What a user needs to know after start: where everything is and which workflows are loaded. */
    public String summary() {
        StringBuilder s = new StringBuilder("Agent Coordinator started\n");
        s.append("  Broker:    ").append(Secrets.redactUrl(brokerUrl())).append(settings.embeddedBroker() ? " (embedded)" : "").append('\n');
        s.append("  Database:  ").append(Secrets.redactUrl(jdbcUrl())).append(settings.embeddedDatabase() ? " (embedded)" : "").append('\n');
        s.append("  HTTP API:  ").append(httpUrl).append("/api/  (POST ").append(httpUrl)
                .append("/api/events, GET ").append(httpUrl).append("/api/executions/{id})\n");
        s.append("  Operations: ").append(httpUrl).append("/observe/health, /observe/metrics, /observe/jolokia (Hawtio)\n");
        s.append("  Demo agents: ").append(settings.demoAgentsEnabled() ? "on" : "off").append('\n');
        s.append("  Workflows (").append(catalog.all().size()).append(") from ")
                .append(settings.workflowsDir().toAbsolutePath().normalize()).append(':');
        for (WorkflowDefinition workflow : catalog.all()) {
            s.append("\n    ").append(workflow.id()).append(" <- ").append(workflow.trigger())
                    .append(" (").append(workflow.steps().size()).append(workflow.steps().size() == 1 ? " step)" : " steps)");
        }
        for (WorkflowDefinition other : catalog.retained()) {
            s.append("\n    ").append(WorkflowCatalog.workflowIdOf(other.id())).append(" version ").append(other.versionOrDefault())
                    .append(": kept for the executions that started on it (routes wf.").append(other.id()).append(".*)");
        }
        return s.toString();
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        stopCamel();
        stop("demo agents", demoAgents);
        stop("infrastructure", infra);
        LOG.info("Agent Coordinator stopped");
    }

    /**
     * How long Camel's stop may take before the broker connections under it are closed: its graceful shutdown
     * (camel.main.shutdownTimeout, 15 s) and then some for the forced one.
     */
    static final long CAMEL_STOP_GRACE_MS = 25_000;
    /**
     * The grace while the broker is known to be unreachable: nothing in flight can be committed on it or acknowledged,
     * so waiting longer only keeps the stop going (the messages are delivered again once it is back). A little of it
     * for what is still writing to the database.
     */
    static final long CAMEL_STOP_GRACE_BROKER_GONE_MS = 2_000;

    /** For tests: whether the coordinator's watch of the broker finds it unreachable now. */
    boolean brokerKnownUnreachable() {
        return brokerUnreachable.getAsBoolean();
    }

    /**
     * Stops Camel; when that takes longer than its grace, {@link #CAMEL_STOP_GRACE_MS} (the broker cannot be reached: each JMS
     * consumer's session waits for a reconnection as it closes, one after the other), or than
     * {@link #CAMEL_STOP_GRACE_BROKER_GONE_MS} while the broker is known to be unreachable, closes the broker connections
     * under it, so that the stop ends rather than wait for a broker that may never come back.
     */
    private void stopCamel() {
        if (camel == null) {
            return;
        }
        java.util.concurrent.ScheduledExecutorService watchdog = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(task -> {
            Thread thread = new Thread(task, "coordinator-stop-watchdog");
            thread.setDaemon(true);
            return thread;
        });
        long began = System.nanoTime();
        watchdog.scheduleWithFixedDelay(() -> {
            long stoppingForMs = (System.nanoTime() - began) / 1_000_000;
            boolean brokerGone = brokerUnreachable.getAsBoolean();
            if (stoppingForMs >= CAMEL_STOP_GRACE_MS || brokerGone && stoppingForMs >= CAMEL_STOP_GRACE_BROKER_GONE_MS) {
                LOG.warn(brokerGone
                                ? "Camel has not stopped after {} s and the broker cannot be reached: closing the broker connections under it"
                                : "Camel has not stopped after {} s (is the broker unreachable?): closing the broker connections under it",
                        stoppingForMs / 1000.0);
                infra.abortBrokerConnections();
                watchdog.shutdown();
            }
        }, 250, 250, java.util.concurrent.TimeUnit.MILLISECONDS);
        try {
            stop("Camel", camel);
        } finally {
            watchdog.shutdownNow();
        }
    }

    private static void stop(String what, AutoCloseable resource) {
        if (resource == null) {
            return;
        }
        try {
            resource.close();
        } catch (Exception e) {
            LOG.warn("Error while stopping {}", what, e);
        }
    }
}
