package dev.agentcoordinator.infra;

import com.zaxxer.hikari.HikariDataSource;
import dev.agentcoordinator.config.CoordinatorSettings;
import dev.agentcoordinator.config.Secrets;
import jakarta.jms.ConnectionFactory;
import org.messaginghub.pooled.jms.JmsPoolConnectionFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.sql.DataSource;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.FutureTask;

/**
 * What the coordinator runs on: the broker and the database (embedded ones when no URL is
 * configured), the migrated schema, the connection pools. Closing stops them in reverse order.
 */
public final class Infrastructure implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Infrastructure.class);
    /** Connections of the HTTP API's pool: its calls are short; more callers wait their turn, within their bound. */
    static final int API_POOL_SIZE = 4;

    private final Deque<AutoCloseable> toClose = new ConcurrentLinkedDeque<>();
    private volatile String brokerUrl;
    private volatile String jdbcUrl;
    private volatile HikariDataSource pool;
    /** The pool behind a gate that opens once the schema is migrated (see {@link ReadyGatedDataSource}). */
    private volatile DataSource dataSource;
    /** The HTTP API's pool, whose waits are bounded more tightly (see {@link #apiDataSource()}). */
    private volatile HikariDataSource apiPool;
    private volatile DataSource apiDataSource;
    /** An outage the routes met, which the API's pool does not wait out (see {@link KnownDatabaseOutage}). */
    private final KnownDatabaseOutage databaseOutage = new KnownDatabaseOutage();
    /** coordinator.db.user, named when PostgreSQL refuses the login. */
    private String dbUser;
    private EmbeddedDatabase embeddedDatabase;
    private EmbeddedBroker embeddedBroker;
    /** The start threads' tasks; a stop on another thread (a signal while starting) reads them while begin() adds. */
    private final List<FutureTask<Void>> starting = new java.util.concurrent.CopyOnWriteArrayList<>();
    /** Set by close(): no start thread begins after it (guarded by this). */
    private volatile boolean closing;
    private final Object closeLock = new Object();
    private volatile JmsPoolConnectionFactory connectionFactory;

    private Infrastructure() {
    }

    /** Starts everything and returns once broker and database are both ready. */
    public static Infrastructure start(CoordinatorSettings settings) throws Exception {
        Infrastructure infra = begin(settings);
        try {
            infra.awaitReady();
            return infra;
        } catch (Exception | Error e) {
            infra.closeQuietly(e);
            throw e;
        }
    }

    /**
     * Starts the broker and the database (with its migrations) side by side, each on a thread of its
     * own, and returns at once: the caller can build its routes meanwhile and {@link #awaitReady()}
     * before anything connects (start-up time is a figure users see). The data source and the JMS
     * connection factory exist from the start and connect on first use; embedded servers get their
     * ports now (free ones unless configured), so that their URLs are known.
     */
    public static Infrastructure begin(CoordinatorSettings settings) {
        return begin(settings, infra -> { });
    }

    /**
     * As {@link #begin(CoordinatorSettings)}; {@code begun} gets the infrastructure before anything starts, so that a
     * stop asked for from then on (a signal during start-up) can close what starts: the embedded database is a
     * process of its own, which would outlive the JVM.
     */
    public static Infrastructure begin(CoordinatorSettings settings, java.util.function.Consumer<Infrastructure> begun) {
        return begin(settings, begun, () -> FreePort.on(EmbeddedDatabase.HOST));
    }

    /** With the pick of the embedded database's port (when coordinator.db.embedded.port is 0) given: tests of a pick that is taken. */
    static Infrastructure begin(CoordinatorSettings settings, java.util.function.Consumer<Infrastructure> begun,
                                java.util.function.IntSupplier databasePortPick) {
        Infrastructure infra = new Infrastructure();
        begun.accept(infra);
        infra.prepareDataSource(settings, databasePortPick);
        infra.chooseBrokerUrl(settings);
        // closed in reverse: the pools before the servers they connect to
        infra.toClose.addLast(infra.embeddedBroker == null ? () -> { } : infra.embeddedBroker);
        infra.toClose.addLast(infra.embeddedDatabase == null ? () -> { } : infra.embeddedDatabase);
        try {
            if (infra.embeddedBroker != null) {
                infra.embeddedBroker.refuseIfPortInUse();
            }
            infra.takeDirectories();
        } catch (java.io.IOException e) {
            infra.closeQuietly(e);
            throw new java.io.UncheckedIOException(unusableFolder(e), e);
        }
        FutureTask<Void> databaseStart = infra.inBackground("coordinator-database-start", () -> {
            infra.startDatabase();
            String migrationUrl = settings.dbMigrationUrl().isEmpty() ? null : settings.dbMigrationUrl();
            infra.migrateOnceTheDatabaseAnswers(settings, migrationUrl);
            try {
                infra.openApiPoolMeanwhile();
            } catch (RuntimeException e) {
                throw infra.unusableDatabase(e, null);
            }
        });
        infra.dataSource = new ReadyGatedDataSource(infra.pool, databaseStart);
        infra.apiDataSource = new OutageRefusingDataSource(new ReadyGatedDataSource(infra.apiPool, databaseStart), infra.databaseOutage);
        infra.inBackground("coordinator-broker-start", () -> infra.startBroker(settings));
        try {
            infra.prepareConnectionFactory(settings);   // meanwhile: the JMS client takes a while to load
            return infra;
        } catch (RuntimeException | Error e) {
            infra.closeQuietly(e);   // waits for the starts, then stops what they started
            throw e;
        }
    }

    /**
     * What keeps a data folder from being used, with the setting that names it: a file system's refusal says only its
     * path ("Agent Coordinator failed to start: /proc/x"); a folder in use says itself what holds it.
     */
    private static String unusableFolder(java.io.IOException e) {
        if (!(e instanceof java.nio.file.FileSystemException refused)) {
            return e.getMessage();
        }
        String why = refused instanceof java.nio.file.NoSuchFileException ? "it cannot be made there (no such file or folder)"
                : refused instanceof java.nio.file.AccessDeniedException ? "permission denied"
                : refused.getReason() != null ? refused.getReason() : refused.getClass().getSimpleName();
        return "cannot use the data folder " + refused.getFile() + " (coordinator.data.dir, or coordinator.db.embedded.data-dir"
                + " for the database's): " + why;
    }

    /**
     * The embedded servers' directory locks, on this thread, the broker's first: taken by each server's own
     * start thread, two coordinators started at once could each take one and both be refused.
     */
    private void takeDirectories() throws java.io.IOException {
        if (embeddedBroker != null) {
            embeddedBroker.takeDirectory();
        }
        if (embeddedDatabase != null) {
            embeddedDatabase.takeDirectory();
        }
    }

    private synchronized FutureTask<Void> inBackground(String threadName, StartTask task) {
        if (closing) {
            throw new IllegalStateException("the coordinator is stopping: " + threadName + " not started");
        }
        FutureTask<Void> future = new FutureTask<>(() -> {
            task.run();
            return null;
        });
        starting.add(future);
        new Thread(future, threadName).start();
        return future;
    }

    @FunctionalInterface
    private interface StartTask {
        void run() throws Exception;
    }

    /** Blocks until broker and database run (schema migrated); throws what stopped one from starting. */
    public void awaitReady() throws Exception {
        for (FutureTask<Void> future : starting) {
            Futures.await(future);
        }
    }

    /**
     * The pool, before the database runs: an embedded database gets its port now (a free one unless
     * configured), so that its URL is known; the pool connects on first use. A free one taken before the server binds
     * it is picked again by the start (see {@link #startDatabase}), which then gives the pools their URL.
     */
    private void prepareDataSource(CoordinatorSettings settings, java.util.function.IntSupplier databasePortPick) {
        jdbcUrl = settings.dbUrl();
        dbUser = settings.dbUser();
        String user = settings.dbUser();
        String password = settings.dbPassword();
        if (settings.embeddedDatabase()) {
            // a port of the coordinator's own pick is picked again at the start when another program takes it first
            embeddedDatabase = settings.dbEmbeddedPort() != 0
                    ? new EmbeddedDatabase(settings.dbEmbeddedPort(), settings.dbEmbeddedDataDir())
                    : EmbeddedDatabase.onPortPickedAhead(settings.dbEmbeddedDataDir(), databasePortPick);
            jdbcUrl = embeddedDatabase.jdbcUrlBeforeStart();
            user = EmbeddedDatabase.USER;
            password = "";
        }
        pool = Database.lazyPool(jdbcUrl, user, password, settings.dbPoolSize(), instanceId(settings),
                new Database.Timeouts("coordinator-db", settings.dbPoolConnectionTimeoutMs(), settings.dbSocketTimeoutMs()));
        toClose.push(pool);
        apiPool = Database.lazyPool(jdbcUrl, user, password, API_POOL_SIZE, instanceId(settings),
                new Database.Timeouts("coordinator-api-db", settings.httpDbTimeoutMs(), settings.httpDbTimeoutMs()));
        toClose.push(apiPool);
    }

    /**
     * Migrates the schema. A database of one's own that refuses or drops the connection (not up yet: started after the
     * coordinator; restarting under the migration) is tried again every 2 s for up to coordinator.db.start-wait-ms, a
     * WARN line each time: a chaos run saw both coordinators exit when PostgreSQL restarted as they started, and none ran
     * until started by hand. What else fails (a wrong password, a failing migration) stops the start at once.
     */
    private void migrateOnceTheDatabaseAnswers(CoordinatorSettings settings, String migrationUrl) {
        long giveUpAt = System.nanoTime() + java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(
                embeddedDatabase != null ? 0 : settings.dbStartWaitMs());
        boolean waits = embeddedDatabase == null && settings.dbStartWaitMs() > 0;
        for (int tries = 1; ; tries++) {
            // a try gives up connecting with the wait: a database that accepts and never answers (or a host that drops the
            // packets) held the first try for the driver's loginTimeout (60 s) or connectTimeout (10 s an address)
            int connectWithinSeconds = waits ? (int) Math.max(1, (leftMs(giveUpAt) + 999) / 1000) : 0;
            try {
                if (migrationUrl == null) {
                    Database.migrate(pool, connectWithinSeconds);
                } else {
                    Database.migrate(migrationUrl, settings.dbUser(), settings.dbPassword(), connectWithinSeconds);
                }
                return;
            } catch (RuntimeException e) {
                IllegalStateException unusable = unusableDatabase(e, migrationUrl);
                if (loginRefused(dev.agentcoordinator.engine.DatabaseUnreachable.inTheDriversWords(e)) || !connectionRefusedOrLost(e)
                        || System.nanoTime() - giveUpAt >= 0) {
                    throw unusable;
                }
                LOG.warn("{} (try {}); trying again in 2 s, for up to coordinator.db.start-wait-ms ({} ms) in all",
                        unusable.getMessage(), tries, settings.dbStartWaitMs());
                // a stop meanwhile (SIGTERM) ends the wait: the stop waits for this start to end
                for (long slept = 0, pause = Math.min(2_000, leftMs(giveUpAt)); slept < pause && !closing; slept += 100) {
                    try {
                        Thread.sleep(100);
                    } catch (InterruptedException interrupted) {
                        Thread.currentThread().interrupt();
                        throw unusable;
                    }
                }
                if (closing) {
                    throw unusable;
                }
            }
        }
    }

    private static long leftMs(long giveUpAt) {
        return java.util.concurrent.TimeUnit.NANOSECONDS.toMillis(giveUpAt - System.nanoTime());
    }

    /**
     * PostgreSQL refused the login (28P01 a wrong password, 28000 no such role or no pg_hba.conf entry), or asked for a
     * password none was given for: the driver tells that as a connection rejected (08004), which reads as a database not
     * up yet, tried again for coordinator.db.start-wait-ms without naming the setting.
     */
    static boolean loginRefused(Throwable reason) {
        return reason instanceof java.sql.SQLException sql && sql.getSQLState() != null && (sql.getSQLState().startsWith("28")
                || "08004".equals(sql.getSQLState()) && String.valueOf(sql.getMessage()).contains("but no password was provided"));
    }

    /** A connection refused or lost (PostgreSQL down or restarting), not a statement that failed on its own. */
    private static boolean connectionRefusedOrLost(Throwable failure) {
        if (dev.agentcoordinator.engine.DatabaseUnreachable.causes(failure)) {
            return true;
        }
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            // HikariCP's proxy of a connection the server closed under it: no SQL state
            if (t instanceof java.sql.SQLException sql && sql.getSQLState() == null
                    && String.valueOf(sql.getMessage()).contains("Connection is closed")) {
                return true;
            }
        }
        return false;
    }

    /**
     * The first connection and the migrations: what stopped them, with where the database is and the
     * setting that names it (Flyway's own message is a framed block that names neither), and the user's settings
     * when PostgreSQL refused the login. {@code migrationUrl}: the migrations' own URL (coordinator.db.migration-url)
     * when that is what failed, else null.
     */
    private IllegalStateException unusableDatabase(RuntimeException e, String migrationUrl) {
        Throwable reason = dev.agentcoordinator.engine.DatabaseUnreachable.inTheDriversWords(e);
        String what = migrationUrl != null
                ? "could not migrate the database at " + Secrets.redactUrl(migrationUrl) + " (coordinator.db.migration-url)"
                : "could not connect to or migrate " + (embeddedDatabase != null ? "the embedded database at " + jdbcUrl
                        : "the database at " + Secrets.redactUrl(jdbcUrl) + " (coordinator.db.url)");
        if (loginRefused(reason) && embeddedDatabase == null) {
            what += " as user \"" + dbUser + "\" (coordinator.db.user, coordinator.db.password)";
        }
        return new IllegalStateException(what + ": " + reason.getMessage(), e);
    }

    private void chooseBrokerUrl(CoordinatorSettings settings) {
        brokerUrl = settings.brokerUrl();
        if (settings.embeddedBroker()) {
            embeddedBroker = new EmbeddedBroker(settings.brokerEmbeddedPort() != 0 ? settings.brokerEmbeddedPort()
                    : FreePort.on(EmbeddedBroker.HOST), settings.brokerEmbeddedDataDir(), settings.brokerJournalBufferTimeoutUs(),
                    settings.replyQueue());
            brokerUrl = embeddedBroker.urlBeforeStart();
        }
    }

    private void prepareConnectionFactory(CoordinatorSettings settings) {
        connectionFactory = Messaging.pooledConnectionFactory(brokerUrl, settings.brokerUser(),
                settings.brokerPassword(), settings.jmsPoolMaxConnections());
        if (connectionFactory.getConnectionFactory() instanceof org.apache.activemq.artemis.jms.client.ActiveMQConnectionFactory artemis) {
            // what anyone may send (events, replies, agent messages and their responses), read within
            // coordinator.input.max-message-bytes
            artemis.getServerLocator().addIncomingInterceptor(new OversizedBodyInterceptor(java.util.Set.of(
                    dev.agentcoordinator.engine.Endpoints.EVENTS_QUEUE, settings.replyQueue(),
                    dev.agentcoordinator.messages.MessageRoutes.INBOUND_QUEUE, dev.agentcoordinator.messages.MessageRoutes.RESPONSE_QUEUE),
                    settings.inputMaxMessageBytes()));
        }
        toClose.push(connectionFactory::stop);
    }

    private void startBroker(CoordinatorSettings settings) throws Exception {
        if (embeddedBroker != null) {
            embeddedBroker.start();
        } else {
            refuseAWrongLogin(settings);
        }
    }

    /**
     * A standalone broker that refuses the coordinator's login stops the start, naming the settings: otherwise the
     * coordinator ran on, not ready, its consumers logging the refusal every 5 s, and its outage watch calling the
     * broker unreachable. One that cannot be reached does not: the coordinator connects once it answers.
     */
    private void refuseAWrongLogin(CoordinatorSettings settings) {
        try (org.apache.activemq.artemis.jms.client.ActiveMQConnectionFactory probe = Messaging.boundedConnectionFactory(brokerUrl,
                settings.brokerUser(), settings.brokerPassword(), settings.healthTimeoutMs());
             jakarta.jms.Connection connection = probe.createConnection()) {
            LOG.debug("the broker at {} takes the coordinator's login", Secrets.redactUrl(brokerUrl));
        } catch (jakarta.jms.JMSSecurityException refused) {
            throw new IllegalStateException("the broker at " + Secrets.redactUrl(brokerUrl) + " (coordinator.broker.url) refused the"
                    + " login of " + (settings.brokerUser() == null || settings.brokerUser().isBlank() ? "an anonymous user"
                    : "user \"" + settings.brokerUser() + "\"") + " (coordinator.broker.user, coordinator.broker.password): "
                    + refused.getMessage(), refused);
        } catch (jakarta.jms.JMSException | RuntimeException unreachable) {
            LOG.warn("the broker at {} (coordinator.broker.url) cannot be reached yet ({}): the coordinator connects once it"
                    + " answers", Secrets.redactUrl(brokerUrl), unreachable.getMessage());
        }
    }


    private void startDatabase() throws Exception {
        if (embeddedDatabase != null) {
            String started = embeddedDatabase.start();
            if (!started.equals(jdbcUrl)) {
                // its port, picked ahead, was taken before the server bound it, and the start picked another: the pools
                // (gated on this start) have not connected yet
                pool.setJdbcUrl(started);
                apiPool.setJdbcUrl(started);
                jdbcUrl = started;
            }
            // before their first connection (the pools are gated on this start): another server that binds the port
            // while this one is down after a crash gets none of their connections
            String check = embeddedDatabase.connectionCheck();
            pool.setConnectionInitSql(check);
            apiPool.setConnectionInitSql(check);
        }
    }

    /**
     * Who this coordinator is in {@code workflow_step_executions.handled_by}: {@code coordinator.instance-id},
     * else host and process id.
     */
    static String instanceId(CoordinatorSettings settings) {
        String configured = settings.get("instance-id");
        if (configured != null && !configured.isBlank()) {
            return configured.trim();
        }
        String host;
        try {
            host = java.net.InetAddress.getLocalHost().getHostName();
        } catch (java.io.IOException e) {
            host = "localhost";
        }
        return host + ":" + ProcessHandle.current().pid();
    }

    public String brokerUrl() {
        return brokerUrl;
    }

    public String jdbcUrl() {
        return jdbcUrl;
    }

    public DataSource dataSource() {
        return dataSource;
    }

    /**
     * The HTTP API's pool opens its first connection while Camel starts, on a thread of its own (a pool opens on first
     * use: the API's first call, the probe that finds the coordinator ready, would wait for it). Best effort: a failure
     * here is met again, and answered, by that first call.
     */
    private void openApiPoolMeanwhile() {
        Thread opening = new Thread(() -> {
            try (java.sql.Connection first = apiPool.getConnection()) {
                LOG.debug("HTTP API pool open");
            } catch (Exception | Error e) {
                LOG.debug("HTTP API pool not opened ahead of its first call: {}", e.toString());
            }
        }, "coordinator-api-pool-start");
        opening.setDaemon(true);
        opening.start();
    }

    /**
     * The HTTP API's connections: a pool of their own, so that a call waits for a connection and for each answer at
     * most {@code coordinator.http.db-timeout-ms} and then answers 503 (a database that hangs held a call for good, or
     * for the engine pool's 30 s wait), and so that API reads never take the connections the engine works with.
     */
    public KnownDatabaseOutage databaseOutage() {
        return databaseOutage;
    }

    public DataSource apiDataSource() {
        return apiDataSource;
    }

    /** The pooled JMS connection factory (share it; do not close it). */
    /**
     * Closes the Artemis client under the coordinator's pooled connections, which ends every reconnection it is waiting
     * for: a stop while the broker cannot be reached otherwise waits, session after session, for a failover that does
     * not come (each of Camel's JMS consumers rolls its session back as it closes). Calls blocked on it then fail.
     * Its sessions are cleaned up without a word to the broker (the locator's cleanup): a close tells the broker of each
     * session and waits for its answer, the call timeout (10 s) per session while it cannot be reached, so that a
     * stop after a broker killed went on for minutes (two helpers' runs: 111 s, and over 7 minutes).
     */
    public void abortBrokerConnections() {
        JmsPoolConnectionFactory pool = connectionFactory;
        if (pool != null && pool.getConnectionFactory() instanceof org.apache.activemq.artemis.jms.client.ActiveMQConnectionFactory artemis) {
            if (artemis.getServerLocator() instanceof org.apache.activemq.artemis.core.client.impl.ServerLocatorImpl locator) {
                locator.cleanup();
            } else {
                artemis.close();
            }
        }
    }

    public ConnectionFactory connectionFactory() {
        return connectionFactory;
    }

    @Override
    public void close() {
        synchronized (this) {
            closing = true;
        }
        closeQuietly(null);
    }

    /**
     * One closer at a time: a stop during start-up (the shutdown hook) and the start's own failure under it
     * both close, and the second must wait for the first (the database's stop) rather than find the list empty.
     */
    private void closeQuietly(Throwable primary) {
        synchronized (closeLock) {
            closeEach(primary);
        }
    }

    private void closeEach(Throwable primary) {
        for (FutureTask<Void> future : starting) {
            Futures.awaitQuietly(future, primary);   // let a start finish, so that what it started is stopped too
        }
        for (AutoCloseable resource = toClose.pollFirst(); resource != null; resource = toClose.pollFirst()) {
            try {
                resource.close();
            } catch (Exception e) {
                if (primary != null) {
                    primary.addSuppressed(e);
                } else {
                    LOG.warn("Error while stopping {}", resource, e);
                }
            }
        }
    }
}
