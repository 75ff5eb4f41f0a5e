package dev.agentcoordinator;

import dev.agentcoordinator.agent.demo.DemoAgents;
import dev.agentcoordinator.config.CoordinatorSettings;
import dev.agentcoordinator.config.LogFormatSwitch;
import dev.agentcoordinator.config.Secrets;
import dev.agentcoordinator.definition.InvalidDefinitionsException;
import dev.agentcoordinator.definition.WorkflowCatalog;
import dev.agentcoordinator.engine.CoordinatorRoutes;
import dev.agentcoordinator.engine.Endpoints;
import dev.agentcoordinator.engine.ExecutionFactsCache;
import dev.agentcoordinator.engine.ReloadNotices;
import dev.agentcoordinator.engine.RetainedVersions;
import dev.agentcoordinator.engine.WorkflowFolderWatch;
import dev.agentcoordinator.engine.WorkflowReload;
import dev.agentcoordinator.engine.WorkflowVersions;
import dev.agentcoordinator.infra.CamelRuntime;
import dev.agentcoordinator.infra.Futures;
import dev.agentcoordinator.infra.Infrastructure;
import org.apache.logging.log4j.LogManager;
import org.slf4j.LoggerFactory;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.FutureTask;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

/**
 * The coordinator's entry point. {@code main} loads the settings and the workflow definitions
 * (refusing to start, exit status 2, when any definition is invalid), starts broker, database,
 * Camel and the demo agents, prints where everything is and runs until the JVM is asked to stop.
 *
 * <p>Tests boot the same application in-process with {@link #start(CoordinatorSettings)}.
 */
public final class CoordinatorApp {

    static final int EXIT_OK = 0;
    static final int EXIT_START_FAILED = 1;
    static final int EXIT_INVALID_CONFIGURATION = 2;

    private static final String EXIT_WHEN_READY = "--exit-when-ready";

    private static final String USAGE = """
            Usage: CoordinatorApp [--config FILE] [--exit-when-ready]
              --config FILE        coordinator.* settings to use instead of ./coordinator.properties
              --exit-when-ready    start everything, print where it is, then stop (checks that the
                                   configuration starts; ./coordinator trains its class-data archive so)
            Settings: see "Configuration" in README.md (COORDINATOR_* environment variables, -Dcoordinator.*).
            Checking workflow definitions without starting anything: ./coordinator validate [--config FILE] [FOLDER-OR-FILE]""";

    private CoordinatorApp() {
    }

    public static void main(String[] args) {
        boolean exitsWhenReady = List.of(args).contains(EXIT_WHEN_READY);
        int status = run(args);
        // A normal end comes from the shutdown hook; System.exit from inside a shutdown would block.
        if (status != EXIT_OK || exitsWhenReady) {
            // no shutdown hook stops Log4j on this way out: its asynchronous appender still holds the
            // last lines (a failed start's stack trace)
            LogManager.shutdown();
            System.exit(status);
        }
    }

    /** Runs the coordinator until the JVM shuts down; returns the process exit status. */
    static int run(String... args) {
        return run(args, System.out, System.err);
    }

    static int run(String[] args, PrintStream out, PrintStream err) {
        Path configFile = null;
        boolean exitWhenReady = false;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--config" -> {
                    if (i + 1 >= args.length) {
                        err.println("--config needs a file name\n" + USAGE);
                        return EXIT_INVALID_CONFIGURATION;
                    }
                    if (configFile != null) {   // the last one alone was read: the settings of the others were dropped silently
                        err.println(CoordinatorSettings.configGivenTwice(configFile, args[i + 1]) + "\n" + USAGE);
                        return EXIT_INVALID_CONFIGURATION;
                    }
                    configFile = Path.of(args[++i]);
                }
                case EXIT_WHEN_READY -> exitWhenReady = true;
                case "--help", "-h" -> {
                    out.println(USAGE);
                    return EXIT_OK;
                }
                default -> {
                    err.println("unknown argument: " + args[i] + "\n" + USAGE);
                    return EXIT_INVALID_CONFIGURATION;
                }
            }
        }

        CoordinatorSettings settings;
        WorkflowCatalog catalog;
        java.nio.file.Path workflowsDir = null;
        try {
            settings = CoordinatorSettings.load(configFile);
            LogFormatSwitch.apply(settings.logFormat());
            workflowsDir = settings.workflowsDir();
            catalog = WorkflowCatalog.load(workflowsDir);
            if (catalog.all().isEmpty()) {
                // a healthy coordinator that starts nothing: a volume mounted late, a wrong path, files not named *.yaml
                LoggerFactory.getLogger(CoordinatorApp.class).warn("no workflow definition (*.yaml, *.yml, *.json) in {}"
                        + " (coordinator.workflows.dir): every event is stored and starts nothing until one is added there and loaded (POST /api/workflows/reload)",
                        settings.workflowsDir().toAbsolutePath().normalize());
            }
        } catch (IllegalArgumentException e) {
            err.println(e.getMessage());
            return EXIT_INVALID_CONFIGURATION;
        } catch (InvalidDefinitionsException e) {
            err.println("Not starting: " + e.getMessage() + (workflowsDir != null && !java.nio.file.Files.isDirectory(workflowsDir)
                    ? "\n  (coordinator.workflows.dir names the folder of workflow definitions)" : ""));
            return EXIT_INVALID_CONFIGURATION;
        }

        // A stop asked for while starting (Ctrl-C, SIGTERM) stops what has started: the embedded
        // database is a process of its own and would outlive the JVM, holding its data folder.
        AtomicReference<Infrastructure> starting = new AtomicReference<>();
        java.util.concurrent.atomic.AtomicBoolean stopAsked = new java.util.concurrent.atomic.AtomicBoolean();
        Thread stopWhileStarting = new Thread(() -> {
            stopAsked.set(true);
            Infrastructure infra = starting.get();
            if (infra != null) {
                infra.close();
            }
        }, "coordinator-stop-while-starting");
        Runtime.getRuntime().addShutdownHook(stopWhileStarting);
        RunningCoordinator running;
        try {
            running = startReadFrom(settings, catalog, starting::set);
        } catch (InvalidDefinitionsException e) {   // found against the database: a definition changed under running executions
            err.println("Not starting: " + e.getMessage());
            removeQuietly(stopWhileStarting);
            return EXIT_INVALID_CONFIGURATION;
        } catch (Exception e) {
            if (stopAsked.get()) {   // what failed is what the stop closed under the start: no fault
                LoggerFactory.getLogger(CoordinatorApp.class).info("Agent Coordinator stopped while starting ({})", e.toString());
                return EXIT_START_FAILED;
            }
            LoggerFactory.getLogger(CoordinatorApp.class).error("Agent Coordinator failed to start", e);
            // the start's own errors say what and where (a port, a URL, a setting); the log has the stack trace
            err.println("Agent Coordinator failed to start: " + (e.getMessage() != null
                    && (e instanceof IllegalStateException || e instanceof java.io.UncheckedIOException) ? e.getMessage() : e.toString()));
            removeQuietly(stopWhileStarting);   // start stopped what it had started
            return EXIT_START_FAILED;
        }
        if (exitWhenReady) {
            announce(running, settings, out);
            removeQuietly(stopWhileStarting);
            running.close();
            return EXIT_OK;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Thread shutdown = new Thread(() -> {
            // the first line of a stop: what follows (routes draining, servers stopping) takes a while
            LoggerFactory.getLogger(CoordinatorApp.class).info("Agent Coordinator stopping (a stop signal: SIGTERM, SIGINT or Ctrl-C):"
                    + " the messages in flight finish first");
            running.close();
            stopped.countDown();
            LogManager.shutdown();   // log4j2.xml disables Log4j's own hook so that the lines above are logged
        }, "coordinator-shutdown");
        try {
            Runtime.getRuntime().addShutdownHook(shutdown);
            Runtime.getRuntime().removeShutdownHook(stopWhileStarting);
        } catch (IllegalStateException shuttingDown) {   // the stop came as the start ended
            running.close();
            return EXIT_OK;
        }
        announce(running, settings, out);
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return EXIT_OK;
    }

    /**
     * The start-up summary: printed as it is in the plain format; in the JSON format one INFO event with the summary
     * as its message, since stdout then carries one JSON object per line for a log shipper (README "Logs").
     */
    private static void announce(RunningCoordinator running, CoordinatorSettings settings, PrintStream out) {
        if (settings.logFormat() == CoordinatorSettings.LogFormat.JSON) {
            LoggerFactory.getLogger(CoordinatorApp.class).info("{}", running.summary());
        } else {
            out.println(running.summary());
        }
    }

    private static void removeQuietly(Thread hook) {
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            // it runs, and finds nothing left to stop
        }
    }

    /** The HTTP password docker-compose.yml falls back on: warned of at start. */
    static final String COMPOSE_DEFAULT_PASSWORD = "change-me";

    /** The warning a start with docker-compose.yml's default HTTP password (no .env) logs. */
    static java.util.Optional<String> composeDefaultPasswordWarning(CoordinatorSettings settings) {
        return COMPOSE_DEFAULT_PASSWORD.equals(settings.httpPassword())
                ? java.util.Optional.of("coordinator.http.password is docker-compose.yml's default \"" + COMPOSE_DEFAULT_PASSWORD
                        + "\": anyone who reads that file can call the API; set COORDINATOR_HTTP_PASSWORD (and the broker's and"
                        + " the database's passwords) in .env")
                : java.util.Optional.empty();
    }

    /** Loads the workflows from {@code coordinator.workflows.dir} and starts everything. */
    public static RunningCoordinator start(CoordinatorSettings settings) throws Exception {
        return startReadFrom(settings, WorkflowCatalog.load(settings.workflowsDir()), infra -> { });
    }

    /**
     * Starts with {@code catalog}, read from {@code coordinator.workflows.dir}, and reads the folder again once the
     * coordinator listens for reload notices: one asked of another coordinator while this one started would not
     * reach it ({@link WorkflowReload#takeChangesMadeWhileStarting}).
     */
    public static RunningCoordinator startReadFrom(CoordinatorSettings settings, WorkflowCatalog catalog, Consumer<Infrastructure> begun)
            throws Exception {
        RunningCoordinator running = start(settings, catalog, begun);
        running.camelContext().getRegistry().lookupByNameAndType("workflowReload", WorkflowReload.class)
                .takeChangesMadeWhileStarting();
        return running;
    }

    /**
     * Starts broker and database (embedded ones when no URL is configured), Camel with the
     * engine's routes for {@code catalog}, and the demo agents when enabled. HTTP port 0 means
     * any free port; {@link RunningCoordinator#httpUrl()} tells which.
     */
    public static RunningCoordinator start(CoordinatorSettings settings, WorkflowCatalog catalog) throws Exception {
        return start(settings, catalog, infra -> { });
    }

    /** As {@link #start(CoordinatorSettings, WorkflowCatalog)}; {@code begun} gets the infrastructure as soon as it starts. */
    static RunningCoordinator start(CoordinatorSettings settings, WorkflowCatalog catalog, Consumer<Infrastructure> begun)
            throws Exception {
        CamelRuntime.refuseHttpPortInUse(settings);   // at once, before seconds of start-up and Vert.x's stack trace
        catalog.warnings().forEach(warning -> LoggerFactory.getLogger(CoordinatorApp.class).warn("Workflows: {}", warning));
        composeDefaultPasswordWarning(settings).ifPresent(LoggerFactory.getLogger(CoordinatorApp.class)::warn);
        Infrastructure infra = Infrastructure.begin(settings, begun);   // broker and database start meanwhile
        // the demo agents are services of their own: they connect while the coordinator's consumers start
        FutureTask<AutoCloseable> demoAgents = new FutureTask<>(() -> {
            infra.awaitReady();
            if (!settings.demoAgentsEnabled()) {
                return null;
            }
            // a factory of their own, without prefetch, as agents should consume (not the coordinator's pool)
            org.apache.activemq.artemis.jms.client.ActiveMQConnectionFactory agents = dev.agentcoordinator.infra.Messaging
                    .agentConnectionFactory(infra.brokerUrl(), settings.brokerUser(), settings.brokerPassword());
            try {
                DemoAgents.Running running = DemoAgents.start(agents, settings.demoAgentsConcurrency());
                return () -> {
                    running.close();
                    agents.close();
                };
            } catch (RuntimeException e) {
                agents.close();
                throw new IllegalStateException("the demo agents cannot consume from the broker at "
                        + Secrets.redactUrl(infra.brokerUrl()) + (settings.embeddedBroker() ? " (embedded)" : " (coordinator.broker.url)")
                        + ": " + e.getMessage(), e);
            }
        });
        Thread demoAgentsStart = new Thread(demoAgents, "coordinator-demo-agents-start");
        CamelRuntime camel = null;
        try {
            CoordinatorRoutes routes = new CoordinatorRoutes(catalog, settings);
            camel = CamelRuntime.prepare(settings, infra, catalog, routes.builders(), routes.outageBreakers(infra.databaseOutage()));
            camel.context().getRegistry().bind(ExecutionFactsCache.REGISTRY_NAME, routes.facts());   // for a look from Hawtio or a test
            startWhileInfrastructureStarts(camel, infra);
            infra.awaitReady();
            // executions that started on another version of their workflow end on it
            CamelRuntime prepared = camel;
            WorkflowVersions.RouteAdder addRoutes = other -> prepared.addRoutes(routes.workflow(other));
            WorkflowVersions.recordAndRetain(infra.dataSource(), catalog, addRoutes);
            // only once the start can no longer be refused for its definitions (a version changed under its number): a
            // refused start took the requests waiting on their queues first, and waited up to 30 s for them to drain
            demoAgentsStart.start();
            RetainedVersions retained = new RetainedVersions(infra.dataSource(), catalog, addRoutes,
                    routeKey -> prepared.removeRoutes(routeId -> Endpoints.isRouteOf(routeId, routeKey)));
            catalog.fetchVersionsFrom(retained);
            // POST /api/workflows/reload (WorkflowApiRoutes), and a change in the folder when it is watched
            WorkflowReload reload = new WorkflowReload(settings.workflowsDir(), catalog, infra.dataSource(), retained,
                    camel.context().getRegistry().lookupByNameAndType(dev.agentcoordinator.ops.Operations.METER_REGISTRY,
                            io.micrometer.core.instrument.MeterRegistry.class));
            camel.context().getRegistry().bind("workflowReload", reload);
            // a reload asked of this coordinator reaches the others on the broker, over connections that fail
            // rather than wait through an outage (closed with Camel)
            ReloadNotices notices = new ReloadNotices(infra.dataSource(), dev.agentcoordinator.infra.Messaging.boundedConnectionFactory(
                    infra.brokerUrl(), settings.brokerUser(), settings.brokerPassword(), settings.healthTimeoutMs()),
                    settings.workflowsReloadWaitMs());
            camel.context().addService(notices, true);
            camel.context().getRegistry().bind("reloadNotices", notices);
            if (notices.subscriptionAllowed(infra.connectionFactory())) {
                camel.addRoutes(notices.answeringRoute(reload));
            }
            camel.context().addService(new dev.agentcoordinator.ops.WorkflowsControl(catalog, reload, notices, camel.context()), true);
            if (settings.workflowsWatch()) {
                camel.context().addService(new WorkflowFolderWatch(settings.workflowsDir(), reload), true);
            }
            camel.addRoutes(retained.retirementRoute(settings.versionsRetirePeriodMs()));
            // stopped with Camel, before the broker
            camel.context().addService(routes.watchBroker(dev.agentcoordinator.infra.Messaging.connectionFactory(
                    infra.brokerUrl(), settings.brokerUser(), settings.brokerPassword())), true);
            // readiness says DOWN for as long as the API refuses sends (BrokerHealthCheck)
            camel.context().getRegistry().bind(dev.agentcoordinator.ops.Operations.BROKER_KNOWN_UNREACHABLE,
                    java.util.function.BooleanSupplier.class, routes.brokerUnreachable());
            camel.startConsumers();
            CoordinatorSettings effective = settings.with(Map.of("http.port", Integer.toString(camel.httpPort())));
            return new RunningCoordinator(effective, catalog, infra, camel, Futures.await(demoAgents),
                    httpUrl(settings.httpHost(), camel.httpPort()), routes.brokerUnreachable());
        } catch (Exception | Error e) {
            AutoCloseable started = demoAgentsStart.getState() == Thread.State.NEW ? null : Futures.awaitQuietly(demoAgents, e);
            new RunningCoordinator(settings, catalog, infra, camel, started, null, () -> false).close();
            throw e;
        }
    }

    /**
     * Camel's start without consumers (its routes' services; the MBeans Hawtio reads come after ready)
     * runs while the database initialises: a fresh one takes seconds. When the infrastructure failed,
     * its error is the one to report (a port taken, a data folder in use), not what Camel met for want
     * of a database.
     */
    private static void startWhileInfrastructureStarts(CamelRuntime camel, Infrastructure infra) throws Exception {
        try {
            camel.startWithoutConsumers();
        } catch (Exception camelError) {
            try {
                infra.awaitReady();
            } catch (Exception cause) {
                cause.addSuppressed(camelError);
                throw cause;
            }
            throw camelError;
        }
    }

    private static String httpUrl(String host, int port) {
        return "http://" + CamelRuntime.reachableAddress(host, port);
    }
}
