package dev.agentcoordinator.infra;

import dev.agentcoordinator.config.CoordinatorSettings;
import dev.agentcoordinator.definition.WorkflowCatalog;
import dev.agentcoordinator.engine.CachedSqlPrepareStatementStrategy;
import dev.agentcoordinator.ops.Operations;
import org.apache.camel.CamelContext;
import org.apache.camel.RoutesBuilder;
import org.apache.camel.component.jms.JmsComponent;
import org.apache.camel.main.Main;
import org.apache.camel.main.SimpleMainShutdownStrategy;

import java.util.List;

/**
 * Camel Main, configured for the coordinator: the registry holds the data source, the JMS
 * connection factory, the {@code jms} component, the settings and the catalog; the embedded
 * platform-http server listens on {@code coordinator.http.host:port}. Other Camel options come
 * from {@code application.properties} ({@code camel.*}).
 */
public final class CamelRuntime implements AutoCloseable {

    /** Registry names other parts of the application may look up. */
    public static final String DATA_SOURCE = "dataSource";
    public static final String CONNECTION_FACTORY = "connectionFactory";
    public static final String SETTINGS = "coordinatorSettings";
    public static final String CATALOG = "workflowCatalog";

    private final Main main;
    private Operations operations;

    private CamelRuntime(Main main, Operations operations) {
        this.main = main;
        this.operations = operations;
    }

    /**
     * Configures Camel and builds every route without starting any, so nothing touches the broker or
     * the database yet: that part of start-up can run while the database is still coming up.
     */
    public static CamelRuntime prepare(CoordinatorSettings settings, Infrastructure infra, WorkflowCatalog catalog,
                                       List<RoutesBuilder> routes, int httpPort) throws Exception {
        Main main = new Main();   // not new Main(SomeClass.class): that scans the package for RouteBuilders
        // Stopping is the application's job (RunningCoordinator), in its own order: no Camel hangup hook.
        main.setShutdownStrategy(new SimpleMainShutdownStrategy());
        main.bind(DATA_SOURCE, infra.dataSource());
        main.bind(CONNECTION_FACTORY, infra.connectionFactory());
        main.bind("jms", jmsComponent(settings, infra));
        main.bind(SETTINGS, settings);
        main.bind(CATALOG, catalog);
        main.bind(CachedSqlPrepareStatementStrategy.REGISTRY_NAME, new CachedSqlPrepareStatementStrategy());
        main.addOverrideProperty("camel.server.enabled", "true");
        main.addOverrideProperty("camel.server.host", settings.httpHost());
        main.addOverrideProperty("camel.server.port", Integer.toString(httpPort));
        // /observe/* (health, metrics, Jolokia) on the same server, behind the same authentication
        main.addOverrideProperty("camel.management.host", settings.httpHost());
        main.addOverrideProperty("camel.management.port", Integer.toString(httpPort));
        Operations operations = Operations.beforeStart(main, settings, infra.dataSource(), infra.connectionFactory(),
                infra.brokerUrl(), catalog);
        routes.forEach(main.configure()::addRoutesBuilder);
        try {
            main.init();                        // Camel Main: configuration and route definitions
            main.getCamelContext().init();      // the routes' processors, built but not started
            return new CamelRuntime(main, operations);
        } catch (Exception | Error e) {
            operations.close();
            throw e;
        }
    }

    /**
     * Starts the prepared routes: consumers begin taking messages, sweeps begin to run. On failure
     * the caller closes this runtime.
     */
    public void start() throws Exception {
        main.start();
        operations = operations.afterStart(main.getCamelContext());
    }

    private static JmsComponent jmsComponent(CoordinatorSettings settings, Infrastructure infra) {
        JmsComponent jms = JmsComponent.jmsComponent(infra.connectionFactory());
        // pooled-jms pools connections and sessions but not consumers: let the listener
        // containers keep their consumers instead of re-creating one per receive.
        jms.setCacheLevelName("CACHE_CONSUMER");
        // transacted consumers use their own session's local transaction, which the requests a route
        // sends join (Spring exposes the listener session to JmsTemplate): one commit takes the
        // message and sends what it caused. With camel-jms's default, a JmsTransactionManager per
        // message, the cached listener session committed the receive first and the manager's own
        // session the sends after it: two commits and a pooled session per message, and a crash in
        // between lost the requests until their attempts timed out.
        jms.setLazyCreateTransactionManager(false);
        jms.setConcurrentConsumers(settings.jmsConcurrentConsumers());
        jms.setMaxConcurrentConsumers(settings.jmsMaxConcurrentConsumers());
        return jms;
    }

    public CamelContext context() {
        return main.getCamelContext();
    }

    /** The operations side: meters, health checks (see {@link Operations}). */
    public Operations operations() {
        return operations;
    }

    @Override
    public void close() throws Exception {
        try {
            main.stop();
        } finally {
            operations.close();
        }
    }
}
