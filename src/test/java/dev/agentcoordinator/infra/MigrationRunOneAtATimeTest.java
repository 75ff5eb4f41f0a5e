package dev.agentcoordinator.infra;

import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.output.MigrateResult;
import org.junit.jupiter.api.Test;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DriverManagerDataSource;

import java.sql.Connection;
import java.sql.DriverManager;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Coordinators starting together on one database migrate it one whole run at a time (docs/operations.md, "Upgrading"):
 * the one that comes second waits for the first and applies nothing. Flyway's own lock is taken per migration, so two
 * coordinators on an empty database took turns within one upgrade (29 and 27 migrations), and one logged "Database
 * schema at version 30" with the schema at 55.
 */
class MigrationRunOneAtATimeTest {

    @Test
    void aCoordinatorStartingWhileAnotherMigratesWaitsForItAndAppliesNothing() throws Exception {
        String name;
        try (ThrowawayDatabase database = ThrowawayDatabase.create("migration_turns");
             Connection first = DriverManager.getConnection(database.url(), "postgres", "")) {
            name = database.name();
            String url = database.url();
            JdbcTemplate schema = new JdbcTemplate(new DriverManagerDataSource(url, "postgres", ""));
            // the first coordinator's run holds the migration lock
            assertThat(lockResult(first, "pg_try_advisory_lock")).isTrue();
            CompletableFuture<MigrateResult> second = CompletableFuture.supplyAsync(() -> Database.migrate(url, "postgres", ""));

            await().during(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(200))
                    .failFast("the second coordinator migrated while the first held the lock",
                            () -> second.isDone() || historyTableExists(schema))
                    .until(() -> !second.isDone());

            // the first applies every migration, then lets go
            Flyway.configure().dataSource(url, "postgres", null).locations(Database.MIGRATIONS)
                    .configuration(Map.of("flyway.postgresql.transactional.lock", "false")).load().migrate();
            String latest = schema.queryForObject("SELECT version FROM flyway_schema_history WHERE success"
                    + " ORDER BY installed_rank DESC LIMIT 1", String.class);
            assertThat(lockResult(first, "pg_advisory_unlock")).isTrue();

            MigrateResult waited = second.get(60, TimeUnit.SECONDS);
            assertThat(waited.migrationsExecuted).isZero();
            assertThat(waited.initialSchemaVersion).isEqualTo(latest);
        }
        assertThat(ThrowawayDatabase.exists(name)).as("database " + name + " left on the shared test server").isFalse();
    }

    /** The session-level advisory lock a coordinator's migration run holds (Database.MIGRATION_LOCK_KEY, "agentcoo"). */
    private static final long MIGRATION_LOCK_KEY = 0x6167656e74636f6fL;

    private static boolean lockResult(Connection connection, String function) throws java.sql.SQLException {
        try (java.sql.Statement statement = connection.createStatement();
             java.sql.ResultSet result = statement.executeQuery("SELECT " + function + "(" + MIGRATION_LOCK_KEY + ")")) {
            return result.next() && result.getBoolean(1);
        }
    }

    private static boolean historyTableExists(JdbcTemplate schema) {
        return Boolean.TRUE.equals(schema.queryForObject("SELECT to_regclass('flyway_schema_history') IS NOT NULL", Boolean.class));
    }
}
