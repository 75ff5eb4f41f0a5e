package dev.agentcoordinator.infra;

import dev.agentcoordinator.engine.TestCoordinator;
import org.flywaydb.core.api.output.MigrateResult;
import org.junit.jupiter.api.Test;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DriverManagerDataSource;

import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * coordinator.db.migration-url: the schema migrated over a connection of its own (a direct one, when the
 * coordinator's pool goes through a transaction-mode pooler), into a database of the shared test server.
 */
class DatabaseMigrationUrlTest {

    @Test
    void theSchemaIsMigratedOverTheMigrationUrlAndASecondRunHasNothingToDo() {
        String serverUrl = TestCoordinator.shared().jdbcUrl();
        String database = "migration_url_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
        new JdbcTemplate(TestCoordinator.shared().dataSource()).execute("CREATE DATABASE " + database);
        String url = serverUrl.replaceFirst("/[^/?]+(\\?.*)?$", "/" + database);

        MigrateResult first = Database.migrate(url, "postgres", "");
        MigrateResult second = Database.migrate(url, "postgres", "");

        assertThat(first.migrationsExecuted).isGreaterThanOrEqualTo(19);
        assertThat(second.migrationsExecuted).isZero();
        JdbcTemplate migrated = new JdbcTemplate(new DriverManagerDataSource(url, "postgres", ""));
        assertThat(migrated.queryForObject("SELECT count(*) FROM information_schema.columns"
                + " WHERE table_name = 'workflow_step_executions' AND column_name = 'progress'", Integer.class)).isEqualTo(1);
    }
}
