package dev.agentcoordinator.infra;

import org.flywaydb.core.api.output.MigrateResult;
import org.junit.jupiter.api.Test;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DriverManagerDataSource;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * coordinator.db.migration-url: the schema migrated over a connection of its own (a direct one, when the
 * coordinator's pool goes through a transaction-mode pooler), into a database of the shared test server.
 */
class DatabaseMigrationUrlTest {

    @Test
    void theSchemaIsMigratedOverTheMigrationUrlAndASecondRunHasNothingToDo() {
        String name;
        try (ThrowawayDatabase database = ThrowawayDatabase.create("migration_url")) {
            name = database.name();
            String url = database.url();
            MigrateResult first = Database.migrate(url, "postgres", "");
            MigrateResult second = Database.migrate(url, "postgres", "");

            assertThat(first.migrationsExecuted).isGreaterThanOrEqualTo(19);
            assertThat(second.migrationsExecuted).isZero();
            JdbcTemplate migrated = new JdbcTemplate(new DriverManagerDataSource(url, "postgres", ""));
            assertThat(migrated.queryForObject("SELECT count(*) FROM information_schema.columns"
                    + " WHERE table_name = 'workflow_step_executions' AND column_name = 'progress'", Integer.class)).isEqualTo(1);
        }
        assertThat(ThrowawayDatabase.exists(name)).as("database " + name + " left on the shared test server").isFalse();
    }
}
