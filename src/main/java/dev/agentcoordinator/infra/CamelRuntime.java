package dev.agentcoordinator.infra;

import dev.agentcoordinator.config.CoordinatorSettings;
import dev.agentcoordinator.definition.WorkflowCatalog;
import dev.agentcoordinator.engine.CachedSqlPrepareStatementStrategy;
import dev.agentcoordinator.engine.DeadLetteredEvents;
import dev.agentcoordinator.engine.QueuedRequests;
import dev.agentcoordinator.ops.DeferredMBeanRegistration;
import dev.agentcoordinator.ops.Operations;
import dev.agentcoordinator.ops.RouteLevelMBeans;
import dev.agentcoordinator.ops.UnmatchedRequests;
import io.vertx.core.http.HttpServer;
import io.vertx.core.net.impl.TCPServerBase;
import org.apache.camel.CamelContext;
import org.apache.camel.RoutesBuilder;
import org.apache.camel.component.jms.JmsComponent;
import org.apache.camel.component.platform.http.vertx.VertxPlatformHttpServer;
import org.apache.camel.main.Main;
import org.apache.camel.main.SimpleMainShutdownStrategy;
import org.apache.camel.spi.RoutePolicyFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;

/**
 * Camel Main, configured for the coordinator: the registry holds the data source, the JMS
 * connection factory, the {@code jms} component, the settings and the catalog; the embedded
 * platform-http server listens on {@code coordinator.http.host:port} (port 0: one the OS picks).
 * Other Camel options come from {@code application.properties} ({@code camel.*}).
 */
public final class CamelRuntime implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(CamelRuntime.class);

    /** Registry names other parts of the application may look up. */
    public static final String DATA_SOURCE = "dataSource";
    public static final String CONNECTION_FACTORY = "connectionFactory";
    public static final String SETTINGS = "coordinatorSettings";
    public static final String CATALOG = "workflowCatalog";

    /** How long the removal of a route waits for the exchanges in it (see {@link #removeRoutes}). */
    private static final int ROUTE_STOP_TIMEOUT_S = 10;

    private final Main main;
    private final CoordinatorSettings settings;
    private Operations operations;
    private int httpPort;

    private CamelRuntime(Main main, CoordinatorSettings settings, Operations operations) {
        this.main = main;
        this.settings = settings;
        this.operations = operations;
    }

    /**
     * Configures Camel and builds every route without starting any, so nothing touches the broker or
     * the database yet: that part of start-up can run while the database is still coming up.
     */
    public static CamelRuntime prepare(CoordinatorSettings settings, Infrastructure infra, WorkflowCatalog catalog,
                                       List<RoutesBuilder> routes, RoutePolicyFactory routePolicies) throws Exception {
        Main main = new Main() {   // not new Main(SomeClass.class): that scans the package for RouteBuilders
            @Override
            protected CamelContext createCamelContext() {   // Main's own, of a class that removes routes in bulk
                RouteRemovingCamelContext context = new RouteRemovingCamelContext(false);
                context.getCamelContextExtension().setRegistry(registry);
                context.getGlobalOptions().put("CamelMainClass", Main.class.getName());
                // the broker's consumers stop first, while the routes a message they still take calls run
                context.setShutdownStrategy(new BrokerConsumersFirstShutdownStrategy(context));
                return context;
            }
        };
        // Stopping is the application's job (RunningCoordinator), in its own order: no Camel hangup hook.
        main.setShutdownStrategy(new SimpleMainShutdownStrategy());
        main.bind(DATA_SOURCE, infra.dataSource());
        // the HTTP API's statements, on a pool of their own (not a DataSource in the registry: the sql component
        // takes the one there)
        org.apache.camel.component.sql.SqlComponent apiSql = new org.apache.camel.component.sql.SqlComponent();
        apiSql.setDataSource(infra.apiDataSource());
        main.bind(dev.agentcoordinator.engine.Sql.API_COMPONENT, apiSql);
        main.bind(CONNECTION_FACTORY, infra.connectionFactory());
        main.bind("jms", jmsComponent(settings, infra));
        main.bind(SETTINGS, settings);
        main.bind("knownDatabaseOutage", infra.databaseOutage());   // the database health check tells what the routes met
        main.bind(CATALOG, catalog);
        main.bind("routePolicies", routePolicies);   // Camel Main adds every RoutePolicyFactory in the registry
        main.bind(CachedSqlPrepareStatementStrategy.REGISTRY_NAME, new CachedSqlPrepareStatementStrategy());
        main.addOverrideProperty("camel.server.enabled", "true");
        main.addOverrideProperty("camel.server.host", settings.httpHost());
        // Port 0 lets the OS choose while binding: a port picked beforehand and bound later could be
        // taken in between by any other process on the machine.
        String httpPort = Integer.toString(settings.httpPort());
        main.addOverrideProperty("camel.server.port", httpPort);
        // /observe/* (health, metrics, Jolokia) on the same server (Camel shares a server whose
        // configured port is the management port), behind the same authentication
        main.addOverrideProperty("camel.management.host", settings.httpHost());
        main.addOverrideProperty("camel.management.port", httpPort);
        if (settings.httpPort() != 0) {
            // the OpenAPI document's server is where a client on this machine reaches the API: camel-openapi-java
            // names the listening address otherwise (http://0.0.0.0, no port), which no client can call
            main.addOverrideProperty("camel.rest.apiProperties[host]", reachableAddress(settings.httpHost(), settings.httpPort()));
        }
        Operations operations = Operations.beforeStart(main, settings, infra.dataSource(), infra.connectionFactory(),
                infra.brokerUrl(), catalog);
        QueuedRequests queuedRequests = new QueuedRequests(infra.connectionFactory(), catalog, operations.meters());
        main.bind(QueuedRequests.REGISTRY_NAME, queuedRequests);
        // a connection of its own, which fails within the health timeout rather than wait through an outage
        DeadLetteredEvents deadLetters = new DeadLetteredEvents(Messaging.boundedConnectionFactory(infra.brokerUrl(),
                settings.brokerUser(), settings.brokerPassword(), settings.healthTimeoutMs()));
        main.bind(DeadLetteredEvents.REGISTRY_NAME, deadLetters);
        // The workflows' routes are added once the context is initialised, as a reload adds them (NewRoutes): Camel's
        // init checks every route's node ids against every other route's (RouteDefinitionHelper.validateUniqueIds,
        // quadratic in the routes), which held a start with 8,685 routes in that check for over nine minutes where a
        // reload of the same workflows took 88 s (a helper's run with 1,000-step workflows, 2026-12-06).
        List<RoutesBuilder> workflows = routes.stream()
                .filter(dev.agentcoordinator.engine.WorkflowRoutes.class::isInstance).toList();
        routes.stream().filter(builder -> !workflows.contains(builder)).forEach(main.configure()::addRoutesBuilder);
        main.addMainListener(DeferredMBeanRegistration.installer());
        try {
            main.init();                        // Camel Main: configuration and route definitions
            RouteLevelMBeans.apply(main.getCamelContext());
            main.getCamelContext().init();      // the routes' processors, built but not started
            for (RoutesBuilder workflow : workflows) {
                NewRoutes.add(main.getCamelContext(), (org.apache.camel.builder.RouteBuilder) workflow);
            }
            queuedRequests.releaseWithdrawnWith(main.getCamelContext());
            main.getCamelContext().addService(deadLetters, true);   // stopped (its connection closed) with Camel
            return new CamelRuntime(main, settings, operations);
        } catch (Exception | Error e) {
            operations.close();
            throw e;
        }
    }

    /**
     * Adds routes: to a started context, running at once; to the prepared one, to start with the
     * others (Camel turns route definitions into routes when the context initialises, which
     * {@link #prepare} did already, so these are turned here). In time proportional to the routes
     * added, not also to those the context has ({@link NewRoutes}): a version's routes, added by a
     * reload or for an execution met on it, are hundreds for a workflow of a hundred steps.
     */
    public void addRoutes(org.apache.camel.builder.RouteBuilder routes) throws Exception {
        NewRoutes.add(main.getCamelContext(), routes);
    }

    /**
     * Stops and removes the routes whose ids {@code which} accepts (with the endpoints only they used);
     * returns how many there were.
     */
    public int removeRoutes(java.util.function.Predicate<String> which) throws Exception {
        RouteRemovingCamelContext context = (RouteRemovingCamelContext) main.getCamelContext();
        List<String> ids = context.getRoutes().stream().map(org.apache.camel.Route::getRouteId).filter(which).toList();
        return context.removeRoutes(ids, ROUTE_STOP_TIMEOUT_S, java.util.concurrent.TimeUnit.SECONDS).size();
    }

    /**
     * Starts Camel and every route's services but no consumer, so nothing takes a message, runs a sweep
     * or answers the API yet; the management MBeans Hawtio reads are registered once consumers started
     * ({@link DeferredMBeanRegistration}).
     * Runs while the database may still be initialising: a service that needs a connection waits for
     * the migrated schema (see {@link Infrastructure#dataSource()}).
     */
    public void startWithoutConsumers() throws Exception {
        main.getCamelContext().setAutoStartup(false);   // routes added until startConsumers wait for it too
        main.start();   // the HTTP server listens, its gate closed: the API's routes wait (ClosedApiGate)
    }

    /**
     * Starts the routes' consumers: consumers begin taking messages, sweeps begin to run, the API
     * answers. On failure the caller closes this runtime.
     */
    public void startConsumers() throws Exception {
        main.getCamelContext().setAutoStartup(true);   // routes added from now on (versions met later) run at once
        main.getCamelContext().getRouteController().startAllRoutes();
        operations.apiGate().open();
        httpPort = listeningPort(main.getCamelContext(), settings);
        UnmatchedRequests.answerInJson(main.getCamelContext());
        // Camel's own start-up summary came before any route ran ("total:0")
        LOG.info("Routes started: {} (HTTP on port {})", main.getCamelContext().getRoutesSize(), httpPort);
        operations = operations.afterStart(main.getCamelContext());
        DeferredMBeanRegistration.release(main.getCamelContext());
    }

    /** The port the HTTP server listens on; known once started. */
    /**
     * {@code host:port} where a client on this machine reaches a server listening on {@code host}: the
     * loopback address for a wildcard one, an IPv6 address in brackets.
     */
    public static String reachableAddress(String host, int port) {
        String reachable = host.equals("0.0.0.0") || host.equals("::") ? "127.0.0.1" : host;
        return (reachable.contains(":") ? "[" + reachable + "]" : reachable) + ":" + port;
    }

    public int httpPort() {
        if (httpPort == 0) {
            throw new IllegalStateException("HTTP server not started");
        }
        return httpPort;
    }

    /**
     * Fails at once when something already listens on the configured HTTP port: found only when Camel's
     * server starts, it came after the broker's and database's start-up and a Vert.x ERROR with its stack
     * trace. (A port taken in between is still found by {@link #listeningPort}.)
     */
    public static void refuseHttpPortInUse(CoordinatorSettings settings) {
        if (settings.httpPort() == 0) {
            return;
        }
        try (java.net.ServerSocket probe = new java.net.ServerSocket()) {
            probe.setReuseAddress(true);   // as Vert.x binds: a port whose last connections linger in TIME_WAIT is free
            probe.bind(new java.net.InetSocketAddress(settings.httpHost(), settings.httpPort()));
        } catch (java.io.IOException inUse) {
            throw new IllegalStateException(httpPortRefusal(settings) + " (" + inUse.getMessage() + ")", inUse);
        }
    }

    private static String httpPortRefusal(CoordinatorSettings settings) {
        return "the HTTP server could not listen on " + settings.httpHost() + ":" + settings.httpPort()
                + " (coordinator.http.host / coordinator.http.port): is the port in use? Port 0 picks a free one.";
    }

    /**
     * The HTTP server's real port. Camel's Vert.x server only logs a WARN when it cannot bind (its
     * listen callback throws on a Vert.x thread), and the application would run deaf: fail instead.
     */
    private static int listeningPort(CamelContext context, CoordinatorSettings settings) {
        VertxPlatformHttpServer server = context.hasService(VertxPlatformHttpServer.class);
        HttpServer http = server == null ? null : server.getServer();
        // Vert.x keeps the requested port as actualPort after a failed bind; its server knows better
        boolean listening = http instanceof TCPServerBase tcp ? tcp.isListening() : http != null;
        int port = listening ? http.actualPort() : 0;
        if (port <= 0) {
            throw new IllegalStateException(httpPortRefusal(settings));
        }
        return port;
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
        // a route's error handler has logged the failure with its stack trace (or, for an outage, in
        // one line: DatabaseOutageErrors); the listener container's line only says the message rolled back,
        // at DEBUG: at WARN it doubled the one line per failed message of a database outage
        jms.setErrorHandlerLogStackTrace(false);
        jms.setErrorHandlerLoggingLevel(org.apache.camel.LoggingLevel.DEBUG);
        // A listener container's invoker waiting in its receive when the coordinator stops may still be handed a
        // message. Rejected (Spring's default), it logged a WARN of its whole text ("Rejecting received message
        // because of the listener container having been stopped in the meantime") for every consumer at every
        // stop under load, and its rollback counted as one of the message's 10 deliveries before the dead-letter
        // address. Accepted, it is handled as any other, in its transaction: committed once handled, or rolled back
        // by a failure; the routes it calls stop after it (BrokerConsumersFirstShutdownStrategy), and the
        // consumer's stop waits for it, within Camel's graceful shutdown (camel.main.shutdownTimeout).
        jms.setAcceptMessagesWhileStopping(true);
        // a stop waits for each consumer's receive in progress to end; an idle receive ends in an empty commit
        jms.setReceiveTimeout(settings.jmsReceiveTimeoutMs());
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
        // the routes stop before the server does: new API requests are refused, those let through answered first
        operations.apiGate().closeForStop(dev.agentcoordinator.ops.ClosedApiGate.DRAIN_AT_MOST);
        try {
            main.stop();
        } finally {
            operations.close();
        }
    }
}
