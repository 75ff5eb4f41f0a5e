package dev.agentcoordinator.infra;

import com.zaxxer.hikari.HikariDataSource;
import dev.agentcoordinator.config.CoordinatorSettings;
import jakarta.jms.ConnectionFactory;
import org.messaginghub.pooled.jms.JmsPoolConnectionFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.sql.DataSource;
import java.util.ArrayDeque;
import java.util.Deque;

/**
 * What the coordinator runs on: the broker and the database (embedded ones when no URL is
 * configured), the migrated schema, the connection pools. Closing stops them in reverse order.
 */
public final class Infrastructure implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Infrastructure.class);

    private final Deque<AutoCloseable> toClose = new ArrayDeque<>();
    private String brokerUrl;
    private String jdbcUrl;
    private HikariDataSource dataSource;
    private JmsPoolConnectionFactory connectionFactory;

    private Infrastructure() {
    }

    /** Starts everything; on failure, whatever was already started is stopped again. */
    public static Infrastructure start(CoordinatorSettings settings) throws Exception {
        Infrastructure infra = new Infrastructure();
        try {
            infra.startBroker(settings);
            infra.startDatabase(settings);
            Database.migrate(infra.dataSource);
            return infra;
        } catch (Exception | Error e) {
            infra.closeQuietly(e);
            throw e;
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
