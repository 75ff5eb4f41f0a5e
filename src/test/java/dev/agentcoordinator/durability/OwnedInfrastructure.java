package dev.agentcoordinator.durability;

import com.zaxxer.hikari.HikariDataSource;
import dev.agentcoordinator.TestFolders;
import dev.agentcoordinator.infra.Database;
import dev.agentcoordinator.infra.EmbeddedBroker;
import dev.agentcoordinator.infra.EmbeddedDatabase;
import dev.agentcoordinator.infra.FreePort;
import dev.agentcoordinator.infra.Messaging;
import jakarta.jms.ConnectionFactory;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.springframework.jdbc.core.JdbcTemplate;

/**
 * The broker and the database of the durability tests, owned by the test JVM so that they outlive
 * the coordinator processes the tests kill. Both keep a fixed port and data folder, so either can be
 * stopped and started again under the coordinators' feet. One instance per test JVM; each test uses
 * its own workflows and agent queues.
 */
public final class OwnedInfrastructure {
    private static OwnedInfrastructure shared;

    private final Path root;
    private final int brokerPort;
    private final int dbPort;
    private EmbeddedBroker broker;
    private EmbeddedDatabase database;
    private HikariDataSource dataSource;

    private OwnedInfrastructure(Path root) {
        this.root = root;
        this.brokerPort = FreePort.on("127.0.0.1");
        this.dbPort = FreePort.on("127.0.0.1");
    }

    public static synchronized OwnedInfrastructure shared() {
        if (shared == null) {
            shared = startNew();
        }
        return shared;
    }

    /**
     * A broker and database of one's own, for a test that restarts them: the shared ones serve the
     * long-lived coordinator process of the other tests, which must not see those outages.
     */
    public static OwnedInfrastructure startNew() {
        OwnedInfrastructure infra = new OwnedInfrastructure(TestFolders.create("durability"));
        try {
            // a copy of the migrated template (its own identity): Flyway's 55 migrations took seconds of each start
            dev.agentcoordinator.DatabaseTemplate.seeded(infra.root);
            infra.startBroker();
            infra.startDatabase();
            // the coordinators migrate too; this one finds the schema current, so tests can query at once
            Database.migrate(infra.dataSource());
            TestFolders.closeThenDeleteAtExit(infra::closeQuietly, infra.root);
            return infra;
        } catch (Exception e) {
            // a failed migration would otherwise leave the database server running after the JVM
            infra.closeQuietly();
            TestFolders.delete(infra.root);
            throw new IllegalStateException("cannot start the durability tests' broker and database", e);
        }
    }

    public synchronized void startBroker() throws Exception {
        broker = new EmbeddedBroker(brokerPort, root.resolve("artemis"));
        broker.start();
    }

    public synchronized void stopBroker() throws Exception {
        broker.close();
    }

    public synchronized void startDatabase() throws Exception {
        database = new EmbeddedDatabase(dbPort, dev.agentcoordinator.DatabaseTemplate.seedCluster(root.resolve("postgres")));
        database.start();
        if (dataSource == null) {
            dataSource = Database.pool(jdbcUrl(), EmbeddedDatabase.USER, "", 4);
        }
    }

    public synchronized void stopDatabase() throws Exception {
        database.close();
    }

    public String brokerUrl() {
        return "tcp://127.0.0.1:" + brokerPort;
    }

    public String jdbcUrl() {
        return "jdbc:postgresql://127.0.0.1:" + dbPort + "/postgres";
    }

    public Path root() {
        return root;
    }

    /** A plain (unpooled) factory that reconnects after a broker restart, for the tests' agents and senders. */
    public ConnectionFactory connectionFactory() {
        return Messaging.connectionFactory(brokerUrl(), null, null);
    }

    public HikariDataSource dataSource() {
        return dataSource;
    }

    /** Rows of a query, column label → value. */
    public List<Map<String, Object>> query(String sql, Object... params) {
        return new JdbcTemplate(dataSource).queryForList(sql, params);
    }

    public long count(String sql, Object... params) {
        return ((Number) query(sql, params).get(0).values().iterator().next()).longValue();
    }

    /** Stops whatever started; each part on its own, so that one failing does not keep the others running. */
    private void closeQuietly() {
        for (AutoCloseable part : new AutoCloseable[] {dataSource, broker, database}) {
            try {
                if (part != null) {
                    part.close();
                }
            } catch (Exception ignored) {
                // the JVM is going away, or the start failed
            }
        }
    }
}
