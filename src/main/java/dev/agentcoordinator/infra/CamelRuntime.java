package dev.agentcoordinator.infra;

import dev.agentcoordinator.config.CoordinatorSettings;
import dev.agentcoordinator.definition.WorkflowCatalog;
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

    private CamelRuntime(Main main) {
        this.main = main;
    }

    /** Starts Camel with {@code routes}; {@code httpPort} is the resolved (never 0) HTTP port. */
    public static CamelRuntime start(CoordinatorSettings settings, Infrastructure infra, WorkflowCatalog catalog,
                                     List<RoutesBuilder> routes, int httpPort) throws Exception {
        Main main = new Main();   // not new Main(SomeClass.class): that scans the package for RouteBuilders
        // Stopping is the application's job (RunningCoordinator), in its own order: no Camel hangup hook.
        main.setShutdownStrategy(new SimpleMainShutdownStrategy());
        main.bind(DATA_SOURCE, infra.dataSource());
        main.bind(CONNECTION_FACTORY, infra.connectionFactory());
        main.bind("jms", jmsComponent(settings, infra));
        main.bind(SETTINGS, settings);
        main.bind(CATALOG, catalog);
        main.addOverrideProperty("camel.server.enabled", "true");
        main.addOverrideProperty("camel.server.host", settings.httpHost());
        main.addOverrideProperty("camel.server.port", Integer.toString(httpPort));
        routes.forEach(main.configure()::addRoutesBuilder);
        main.start();
        return new CamelRuntime(main);
    }

    private static JmsComponent jmsComponent(CoordinatorSettings settings, Infrastructure infra) {
        JmsComponent jms = JmsComponent.jmsComponent(infra.connectionFactory());
        // pooled-jms pools connections and sessions but not consumers: let the listener
        // containers keep their consumers instead of re-creating one per receive.
        jms.setCacheLevelName("CACHE_CONSUMER");
        jms.setConcurrentConsumers(settings.jmsConcurrentConsumers());
        jms.setMaxConcurrentConsumers(settings.jmsMaxConcurrentConsumers());
        return jms;
    }

    public CamelContext context() {
        return main.getCamelContext();
    }

    @Override
    public void close() throws Exception {
        main.stop();
    }
}
