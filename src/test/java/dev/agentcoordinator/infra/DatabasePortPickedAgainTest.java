package dev.agentcoordinator.infra;

import dev.agentcoordinator.DatabaseTemplate;
import dev.agentcoordinator.TestFolders;
import dev.agentcoordinator.config.CoordinatorSettings;
import org.junit.jupiter.api.Test;

import javax.sql.DataSource;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntSupplier;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * With coordinator.db.embedded.port 0 (the default) the coordinator picks the embedded database's port itself, so that
 * its pools know their URL before the start. Another program that takes that port before PostgreSQL binds it failed the
 * start ("could not listen on ... is the port in use?"): the start picks another port, as a start on port 0 does.
 */
class DatabasePortPickedAgainTest {

    @Test
    void aPickedPortTakenBeforeTheServersBindIsPickedAgainAndThePoolsReachTheirOwnDatabase() throws Exception {
        Path folder = TestFolders.create("database-port-pick");
        try (ServerSocket taker = new ServerSocket()) {
            taker.bind(new InetSocketAddress(EmbeddedDatabase.HOST, FreePort.on(EmbeddedDatabase.HOST)), 50);
            int taken = taker.getLocalPort();
            AtomicInteger picks = new AtomicInteger();
            IntSupplier firstPickTaken = () -> picks.incrementAndGet() == 1 ? taken : FreePort.on(EmbeddedDatabase.HOST);
            CoordinatorSettings settings = CoordinatorSettings.fromMap(Map.of(
                    "data.dir", DatabaseTemplate.seeded(folder).toString(),
                    "broker.embedded.port", "0",
                    "db.embedded.port", "0"));

            try (Infrastructure infra = Infrastructure.begin(settings, begun -> { }, firstPickTaken)) {
                infra.awaitReady();

                assertThat(picks).as("ports picked").hasValue(2);
                assertThat(infra.jdbcUrl()).as("the URL the coordinator names").doesNotContain(":" + taken + "/");
                assertServesItsOwnDirectory(infra.dataSource(), folder.resolve("postgres"));
                assertServesItsOwnDirectory(infra.apiDataSource(), folder.resolve("postgres"));
            }
        } finally {
            TestFolders.delete(folder);
        }
    }

    private static void assertServesItsOwnDirectory(DataSource dataSource, Path dataDir) throws Exception {
        try (java.sql.Connection connection = dataSource.getConnection();
             java.sql.Statement statement = connection.createStatement();
             java.sql.ResultSet row = statement.executeQuery("SELECT current_setting('data_directory')")) {
            row.next();
            assertThat(Files.isSameFile(Path.of(row.getString(1)), dataDir)).as("served directory " + row.getString(1)).isTrue();
        }
    }
}
