package dev.agentcoordinator.infra;

import com.zaxxer.hikari.HikariDataSource;
import dev.agentcoordinator.config.CoordinatorSettings;
import jakarta.jms.ConnectionFactory;
import org.messaginghub.pooled.jms.JmsPoolConnectionFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.sql.DataSource;
import java.util.Deque;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;

/**
 * What the coordinator runs on: the broker and the database (embedded ones when no URL is
 * configured), the migrated schema, the connection pools. Closing stops them in reverse order.
 */
public final class Infrastructure implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Infrastructure.class);

    private final Deque<AutoCloseable> toClose = new ConcurrentLinkedDeque<>(); // filled by two start threads
    private volatile String brokerUrl;
    private volatile String jdbcUrl;
    private volatile HikariDataSource dataSource;
    private JmsPoolConnectionFactory connectionFactory;

    private Infrastructure() {
    }

    /**
     * Starts everything; on failure, whatever was already started is stopped again. Broker and
     * database are independent, so they start side by side (start-up time is a figure users see).
     */
    public static Infrastructure start(CoordinatorSettings settings) throws Exception {
        Infrastructure infra = new Infrastructure();
        FutureTask<Void> database = new FutureTask<>(() -> {
            infra.startDatabase(settings);
            Database.migrate(infra.dataSource);
            return null;
        });
        new Thread(database, "coordinator-database-start").start();
        try {
            infra.startBroker(settings);
            awaitDatabase(database);
            return infra;
        } catch (Exception | Error e) {
            try {
                database.get();   // let it finish, so that what it started is stopped too
            } catch (ExecutionException alsoFailed) {
                e.addSuppressed(alsoFailed.getCause());
            }
            infra.closeQuietly(e);
            throw e;
        }
    }

    private static void awaitDatabase(FutureTask<Void> database) throws Exception {
        try {
            database.get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof Exception cause) {
                throw cause;
            }
            throw (Error) e.getCause();
        }
    }

    private void startBroker(CoordinatorSettings settings) throws Exception {
        brokerUrl = settings.brokerUrl();
        if (settings.embeddedBroker()) {
            EmbeddedBroker broker = new EmbeddedBroker(settings.brokerEmbeddedPort(), settings.brokerEmbeddedDataDir());
            toClose.push(broker);
            brokerUrl = broker.start();
        }
        connectionFactory = Messaging.pooledConnectionFactory(brokerUrl, settings.brokerUser(),
                settings.brokerPassword(), settings.jmsPoolMaxConnections());
        toClose.push(connectionFactory::stop);
    }

    private void startDatabase(CoordinatorSettings settings) throws Exception {
        jdbcUrl = settings.dbUrl();
        String user = settings.dbUser();
        String password = settings.dbPassword();
        if (settings.embeddedDatabase()) {
            EmbeddedDatabase database = new EmbeddedDatabase(settings.dbEmbeddedPort(), settings.dbEmbeddedDataDir());
            toClose.push(database);
            jdbcUrl = database.start();
            user = EmbeddedDatabase.USER;
            password = "";
        }
        dataSource = Database.pool(jdbcUrl, user, password, settings.dbPoolSize(), instanceId(settings));
        toClose.push(dataSource);
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

    /** The pooled JMS connection factory (share it; do not close it). */
    public ConnectionFactory connectionFactory() {
        return connectionFactory;
    }

    @Override
    public void close() {
        closeQuietly(null);
    }

    private void closeQuietly(Throwable primary) {
        while (!toClose.isEmpty()) {
            AutoCloseable resource = toClose.pop();
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
