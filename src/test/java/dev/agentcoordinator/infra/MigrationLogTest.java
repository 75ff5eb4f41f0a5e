package dev.agentcoordinator.infra;

import org.flywaydb.core.api.output.MigrateOutput;
import org.flywaydb.core.api.output.MigrateResult;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** What the start-up line says an upgrade changed in the schema (Flyway's own lines are off). */
class MigrationLogTest {

    private static MigrateResult result(String from, MigrateOutput... applied) {
        MigrateResult result = new MigrateResult();
        result.initialSchemaVersion = from;
        result.migrations = List.of(applied);
        return result;
    }

    private static MigrateOutput migration(String version, String description, int ms) {
        MigrateOutput output = new MigrateOutput();
        output.version = version;
        output.description = description;
        output.executionTime = ms;
        return output;
    }

    @Test
    void anUpgradeNamesEachMigrationItAppliedAndTheVersionItStartedFrom() {
        assertThat(Database.appliedNow(result("45", migration("46", "attempt deadline within the execution", 70),
                migration("47", "undo what was in flight at a cancel", 12))))
                .isEqualTo(", from version 45: V46 attempt deadline within the execution (70 ms),"
                        + " V47 undo what was in flight at a cancel (12 ms)");
    }

    @Test
    void aNewDatabaseOrAStartWithNothingToApplyAddsNoList() {
        assertThat(Database.appliedNow(result(null, migration("1", "schema", 30)))).isEqualTo(", on an empty schema");
        assertThat(Database.appliedNow(result("47"))).isEmpty();
    }
}
