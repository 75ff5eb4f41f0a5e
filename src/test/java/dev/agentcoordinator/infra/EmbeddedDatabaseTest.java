package dev.agentcoordinator.infra;

import com.zaxxer.hikari.HikariDataSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.sql.DataSource;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class EmbeddedDatabaseTest {

    @TempDir
    Path dataDir;

    @Test
    void startsMigratesAndKeepsItsDataAcrossARestart() throws Exception {
        try (EmbeddedDatabase database = new EmbeddedDatabase(0, dataDir);
             HikariDataSource pool = Database.pool(database.start(), EmbeddedDatabase.USER, "", 2)) {
            assertThat(database.jdbcUrl()).matches("jdbc:postgresql://127\\.0\\.0\\.1:\\d+/postgres");
            Database.migrate(pool);
            assertThat(tables(pool)).contains("workflow_executions", "workflow_step_executions",
                    "agent_events", "agent_messages", "resource_locks");
            execute(pool, "INSERT INTO agent_events (id, event_key, type) VALUES ('e1', 'k1', 'TEST')");
        }

        try (EmbeddedDatabase database = new EmbeddedDatabase(0, dataDir);
             HikariDataSource pool = Database.pool(database.start(), EmbeddedDatabase.USER, "", 2)) {
            assertThat(Database.migrate(pool).migrationsExecuted).isZero();
            assertThat(count(pool, "SELECT count(*) FROM agent_events WHERE event_key = 'k1'")).isEqualTo(1);
        }
    }

    private static List<String> tables(DataSource dataSource) throws Exception {
        List<String> tables = new ArrayList<>();
        try (Connection c = dataSource.getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")) {
            while (rs.next()) {
                tables.add(rs.getString(1));
            }
        }
        return tables;
    }

    private static void execute(DataSource dataSource, String sql) throws Exception {
        try (Connection c = dataSource.getConnection(); Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }

    private static long count(DataSource dataSource, String sql) throws Exception {
        try (Connection c = dataSource.getConnection(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
