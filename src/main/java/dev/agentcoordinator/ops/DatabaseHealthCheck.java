package dev.agentcoordinator.ops;

import org.apache.camel.health.HealthCheckResultBuilder;
import org.apache.camel.impl.health.AbstractHealthCheck;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.Statement;
import java.util.Map;

/** DOWN when PostgreSQL does not answer {@code SELECT 1} within the health timeout. */
public final class DatabaseHealthCheck extends AbstractHealthCheck {

    /** Its id in Camel's health-check registry (the outage breakers ask it too). */
    public static final String ID = "database";

    private final DataSource dataSource;
    private final int timeoutMs;
    private final BoundedCheck bounded;

    public DatabaseHealthCheck(DataSource dataSource, int timeoutMs) {
        super("coordinator", ID);
        this.dataSource = dataSource;
        this.timeoutMs = timeoutMs;
        this.bounded = new BoundedCheck("database", timeoutMs);
    }

    @Override
    public boolean isLiveness() {
        return false;   // an unreachable database makes the coordinator unready, not broken
    }

    @Override
    protected void doCall(HealthCheckResultBuilder builder, Map<String, Object> options) {
        String problem = bounded.run(() -> {
            try (Connection connection = dataSource.getConnection(); Statement statement = connection.createStatement()) {
                statement.setQueryTimeout(Math.max(1, timeoutMs / 1000));
                statement.execute("SELECT 1");
            }
            return null;
        });
        if (problem == null) {
            builder.up();
        } else {
            builder.message("database unreachable: " + problem).down();
        }
    }
}
