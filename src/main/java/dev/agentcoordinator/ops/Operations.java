package dev.agentcoordinator.ops;

import dev.agentcoordinator.config.CoordinatorSettings;
import dev.agentcoordinator.definition.WorkflowCatalog;
import dev.agentcoordinator.definition.WorkflowDefinition;
import dev.agentcoordinator.definition.WorkflowStep;
import dev.agentcoordinator.engine.Endpoints;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import jakarta.jms.ConnectionFactory;
import org.apache.camel.CamelContext;
import org.apache.camel.health.HealthCheckRegistry;
import org.apache.camel.main.Main;

import javax.sql.DataSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * The coordinator's operations side, set up around Camel Main's start: basic authentication and the
 * closed-API gate on the HTTP server, the Vert.x instance it runs on ({@link HttpServerVertx}), one Prometheus registry for Camel's and the coordinator's meters (served at
 * /observe/metrics), the workflow metrics, and the broker and database health checks (served at
 * /observe/health). Jolokia, the health and metrics endpoints, MDC and the OpenAPI document are
 * switched on in application.properties.
 */
public final class Operations implements AutoCloseable {

    /** Registry name Camel's micrometer support looks up (and would otherwise create). */
    public static final String METER_REGISTRY = "metricsRegistry";

    private final CoordinatorSettings settings;
    private final DataSource dataSource;
    private final ConnectionFactory connectionFactory;
    private final String brokerUrl;
    private final WorkflowCatalog catalog;
    private final PrometheusMeterRegistry meters = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final StepLatencyRecorder latencies;
    private final ClosedApiGate apiGate = new ClosedApiGate();
    private final List<AutoCloseable> toClose = new ArrayList<>();

    private Operations(CoordinatorSettings settings, DataSource dataSource, ConnectionFactory connectionFactory,
                       String brokerUrl, WorkflowCatalog catalog) {
        this.settings = settings;
        this.dataSource = dataSource;
        this.connectionFactory = connectionFactory;
        this.brokerUrl = brokerUrl;
        this.catalog = catalog;
        this.latencies = new StepLatencyRecorder(dataSource, meters);
        toClose.add(latencies);
    }

    /** Binds what Camel Main must find before it starts. */
    public static Operations beforeStart(Main main, CoordinatorSettings settings, DataSource dataSource,
                                         ConnectionFactory connectionFactory, String brokerUrl, WorkflowCatalog catalog) {
        Operations ops = new Operations(settings, dataSource, connectionFactory, brokerUrl, catalog);
        BasicAuthGuard authentication = settings.httpAuthenticationEnabled()
                ? new BasicAuthGuard(settings.httpUser(), settings.httpPassword()) : null;
        main.bind("guardedHttpServerFactory", new GuardedHttpServerFactory(authentication, ops.apiGate));
        // Camel's HTTP server takes the Vert.x instance it finds here; closed after Camel stopped (close)
        HttpServerVertx vertx = HttpServerVertx.create(settings.httpIdleTimeoutMs(), settings.httpHeaderTimeoutMs());
        ops.toClose.add(vertx::closeAndWait);
        main.bind("vertx", vertx);
        main.bind(METER_REGISTRY, ops.meters);
        main.bind("workflowMetrics", new WorkflowMetrics(ops.meters, ops.latencies));
        main.bind("progressMdc", new ProgressMdc());
        return ops;
    }

    /** Registry name of the BooleanSupplier that says whether the broker is known unreachable (BrokerOutageWatch). */
    public static final String BROKER_KNOWN_UNREACHABLE = "brokerKnownUnreachable";

    /** Registers the health checks and starts the backlog gauges on the started context. */
    public Operations afterStart(CamelContext context) {
        int timeoutMs = settings.healthTimeoutMs();
        HealthCheckRegistry health = HealthCheckRegistry.get(context);
        DatabaseHealthCheck database = new DatabaseHealthCheck(dataSource, timeoutMs,
                context.getRegistry().findSingleByType(dev.agentcoordinator.infra.KnownDatabaseOutage.class));
        java.util.function.BooleanSupplier brokerKnownUnreachable = context.getRegistry()
                .lookupByNameAndType(BROKER_KNOWN_UNREACHABLE, java.util.function.BooleanSupplier.class);
        BrokerHealthCheck broker = new BrokerHealthCheck(brokerUrl, settings.brokerUser(), settings.brokerPassword(), timeoutMs,
                brokerKnownUnreachable != null ? brokerKnownUnreachable : () -> false);
        database.setCamelContext(context);
        broker.setCamelContext(context);
        health.register(database);
        health.register(broker);

        // asked at each refresh: a reload of the workflows (WorkflowReload) may bring workflows and agents of its own
        QueueDepths queues = new QueueDepths(connectionFactory, this::queueNames, timeoutMs);
        context.getRegistry().bind("queueDepths", queues);   // GET /api/agents reads them when asked
        toClose.add(new BacklogGauges(meters, dataSource, this::workflowIds, this::agentNames, queues, timeoutMs)
                .start(settings.metricsRefreshMs()));
        return this;
    }

    /** Closed until the API's routes run (see {@link ClosedApiGate}). */
    public ClosedApiGate apiGate() {
        return apiGate;
    }

    public PrometheusMeterRegistry meters() {
        return meters;
    }

    private List<String> workflowIds() {
        return catalog.all().stream().map(WorkflowDefinition::id).toList();
    }

    private Set<String> agentNames() {
        Set<String> agents = new TreeSet<>();
        for (WorkflowDefinition workflow : catalog.all()) {
            for (WorkflowStep step : workflow.steps()) {
                agents.addAll(step.agents());
            }
        }
        return agents;
    }

    /** Where a standalone broker made by {@code artemis create} dead-letters (its address settings for {@code #}). */
    static final String STANDALONE_DEAD_LETTER_QUEUE = "DLQ";

    private List<String> queueNames() {
        // DLA: replies and requests the broker gave up delivering wait there for an operator (docs/guarantees.md, "Limits");
        // DLQ on a standalone broker made by `artemis create`, whose address settings dead-letter there (a queue the
        // broker does not have gets no gauge)
        List<String> queues = new ArrayList<>(List.of(Endpoints.EVENTS_QUEUE, Endpoints.DEAD_LETTER_QUEUE, settings.replyQueue(),
                dev.agentcoordinator.infra.EmbeddedBroker.DEAD_LETTER_ADDRESS, STANDALONE_DEAD_LETTER_QUEUE));
        agentNames().forEach(agent -> queues.add(Endpoints.agentQueue(agent)));
        return queues;
    }

    @Override
    public void close() {
        for (AutoCloseable resource : toClose) {
            try {
                resource.close();
            } catch (Exception ignored) {
                // background threads only
            }
        }
        meters.close();
    }
}
