package dev.agentcoordinator.ops;

import dev.agentcoordinator.engine.DatabaseUnreachable;
import org.apache.camel.health.HealthCheckResultBuilder;
import org.apache.camel.impl.health.AbstractHealthCheck;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.Statement;
import java.util.Map;

/**
 * DOWN when PostgreSQL does not answer within the health timeout, or answers read-only (a hot standby
 * after a fail-over, or transactions that default to read-only): the coordinator could not record a
 * single transition, and the outage breakers, which ask this check, keep the consumers paused.
 */
public final class DatabaseHealthCheck extends AbstractHealthCheck {

    /** Its id in Camel's health-check registry (the outage breakers ask it too). */
    public static final String ID = "database";

    private final DataSource dataSource;
    private final int timeoutMs;
    private final BoundedCheck bounded;
    /** A connection of its own, past the pool, when the pool gives none: what the database answers now. */
    private final BoundedCheck fresh;
    /** The outage the routes met, if any; null for none known (a check of its own). */
    private final dev.agentcoordinator.infra.KnownDatabaseOutage outage;

    public DatabaseHealthCheck(DataSource dataSource, int timeoutMs) {
        this(dataSource, timeoutMs, null);
    }

    /**
     * With what the routes met while they pause on an outage: the check waits for a pool connection, so all it could say
     * of a database that refuses connections was that it got no answer in time.
     */
    public DatabaseHealthCheck(DataSource dataSource, int timeoutMs, dev.agentcoordinator.infra.KnownDatabaseOutage outage) {
        super("coordinator", ID);
        this.dataSource = dataSource;
        this.timeoutMs = timeoutMs;
        this.bounded = new BoundedCheck("database", timeoutMs);
        this.fresh = new BoundedCheck("database-connect", timeoutMs);
        this.outage = outage;
    }

    /** Throws unless the connection's database records transitions: it answers within the bound, and is not read-only. */
    public static void checkWritable(Connection connection, int timeoutSeconds) throws java.sql.SQLException {
        try (Statement statement = connection.createStatement()) {
            statement.setQueryTimeout(timeoutSeconds);
            try (java.sql.ResultSet answer = statement.executeQuery(
                    "SELECT pg_is_in_recovery() OR current_setting('transaction_read_only') = 'on'")) {
                if (answer.next() && answer.getBoolean(1)) {
                    throw new java.sql.SQLException("the database is read-only (a standby, or transactions default to "
                            + "read-only): transitions cannot be recorded", DatabaseUnreachable.READ_ONLY);
                }
            }
        }
    }

    @Override
    public boolean isLiveness() {
        return false;   // an unreachable database makes the coordinator unready, not broken
    }

    @Override
    protected void doCall(HealthCheckResultBuilder builder, Map<String, Object> options) {
        String problem = bounded.run(() -> {
            try (Connection connection = dataSource.getConnection()) {
                checkWritable(connection, Math.max(1, (int) (timeoutMs / 1000)));
            }
            return null;
        });
        if (problem == null) {
            builder.up();
            return;
        }
        java.util.Optional<com.zaxxer.hikari.HikariDataSource> pool = pool();
        String where = pool.map(p -> " at " + dev.agentcoordinator.config.Secrets.redactUrl(p.getJdbcUrl())).orElse("");
        if (bounded.hanging() && pool.isPresent()) {
            // the pool's wait for a connection says nothing of why none comes: a refused connection, PostgreSQL's
            // max_connections taken, a silent host; a connection of its own tells which
            String connecting = fresh.run(() -> {
                connectPastThePool(pool.get());
                return null;
            });
            problem = connecting == null ? "it accepts a new connection, but the pool gave none within " + timeoutMs + " ms"
                    : "a new connection failed: " + connecting;
        }
        String met = outage == null ? "" : outage.reason().map(reason -> "; the routes paused on: " + reason).orElse("");
        builder.message("database unreachable" + where + ": " + problem + met).down();
    }

    /** The coordinator's HikariCP pool behind the data source, which knows the URL and credentials. */
    private java.util.Optional<com.zaxxer.hikari.HikariDataSource> pool() {
        try {
            return dataSource.isWrapperFor(com.zaxxer.hikari.HikariDataSource.class)
                    ? java.util.Optional.of(dataSource.unwrap(com.zaxxer.hikari.HikariDataSource.class)) : java.util.Optional.empty();
        } catch (java.sql.SQLException e) {
            return java.util.Optional.empty();
        }
    }

    private void connectPastThePool(com.zaxxer.hikari.HikariDataSource pool) throws java.sql.SQLException {
        java.util.Properties properties = new java.util.Properties();
        properties.putAll(pool.getDataSourceProperties());
        if (pool.getUsername() != null) {
            properties.setProperty("user", pool.getUsername());
        }
        if (pool.getPassword() != null) {
            properties.setProperty("password", pool.getPassword());
        }
        String seconds = Integer.toString(Math.max(1, (int) (timeoutMs / 1000)));
        properties.setProperty("connectTimeout", seconds);
        properties.setProperty("loginTimeout", seconds);
        properties.setProperty("socketTimeout", seconds);
        try (Connection connection = java.sql.DriverManager.getConnection(pool.getJdbcUrl(), properties)) {
            checkWritable(connection, Integer.parseInt(seconds));
        }
    }
}
