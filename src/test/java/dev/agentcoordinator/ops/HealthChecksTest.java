package dev.agentcoordinator.ops;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.agentcoordinator.infra.FreePort;
import org.apache.camel.health.HealthCheck;
import org.junit.jupiter.api.Test;
import org.postgresql.ds.PGSimpleDataSource;

import java.net.InetAddress;
import java.net.ServerSocket;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The broker and database checks: UP on a running coordinator, DOWN (in time) when unreachable. */
class HealthChecksTest {

    @Test
    void coordinatorReportsBrokerAndDatabaseUp() throws Exception {
        HttpResponse<String> response = OpsCoordinator.get("/observe/health?exposureLevel=full", true);   // details need credentials
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        JsonNode health = new ObjectMapper().readTree(response.body());
        assertThat(health.path("status").asText()).as(response.body()).isEqualTo("UP");
        assertThat(response.body()).contains("coordinator", "database", "broker");
    }

    @Test
    void databaseCheckGoesDownWhenPostgresIsUnreachable() {
        assertDown(new DatabaseHealthCheck(dataSourceOn(FreePort.on("127.0.0.1")), 1000), "database unreachable");
    }

    @Test
    void databaseCheckGoesDownInTimeWhenPostgresDoesNotAnswer() throws Exception {
        try (ServerSocket silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {   // accepts, never answers
            DatabaseHealthCheck check = new DatabaseHealthCheck(dataSourceOn(silent.getLocalPort()), 1000);
            assertDown(check, "database unreachable: no answer within 1000 ms");
            assertDown(check, "database unreachable");   // the hanging probe is not stacked up again
        }
    }

    /**
     * While the routes pause on an outage, the check tells what they met: it waits for a pool connection, and said only
     * that it got no answer in time when the database refused every connection.
     */
    @Test
    void databaseCheckTellsWhatTheRoutesMetInAKnownOutage() throws Exception {
        try (ServerSocket silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            dev.agentcoordinator.infra.KnownDatabaseOutage outage = new dev.agentcoordinator.infra.KnownDatabaseOutage();
            Object breaker = new Object();
            outage.seen(breaker, "Connection to 127.0.0.1:5432 refused. Check that the hostname and port are correct");
            DatabaseHealthCheck check = new DatabaseHealthCheck(dataSourceOn(silent.getLocalPort()), 1000, outage);
            assertDown(check, "database unreachable: no answer within 1000 ms; the routes paused on: Connection to 127.0.0.1:5432 refused");
            outage.over(breaker);
            assertThat(outage.reason()).isEmpty();
        }
    }

    /**
     * A database that refuses connections while the routes pause on an outage: the check names the database (its URL
     * without the password) and what a connection meets now. It said "the previous check has not returned after more
     * than 1000 ms; the routes paused on: FATAL: terminating connection due to administrator command": it waits for a pool
     * connection that does not come, and the routes' reason was what PostgreSQL said as it stopped.
     */
    @Test
    void databaseCheckNamesTheDatabaseAndWhatANewConnectionMeets() throws Exception {
        int closedPort = FreePort.on("127.0.0.1");
        String url = "jdbc:postgresql://127.0.0.1:" + closedPort + "/coordinator?password=secret";
        try (com.zaxxer.hikari.HikariDataSource pool = dev.agentcoordinator.infra.Database.lazyPool(url, "postgres", null, 2,
                null, new dev.agentcoordinator.infra.Database.Timeouts("health-test", 30_000, 0))) {
            pool.setInitializationFailTimeout(-1);   // a pool that started before the outage: it waits for a connection
            dev.agentcoordinator.infra.KnownDatabaseOutage outage = new dev.agentcoordinator.infra.KnownDatabaseOutage();
            outage.seen(new Object(), "FATAL: terminating connection due to administrator command");
            DatabaseHealthCheck check = new DatabaseHealthCheck(pool, 1000, outage);
            String refused = "database unreachable at jdbc:postgresql://127.0.0.1:" + closedPort + "/coordinator?password=****:"
                    + " a new connection failed: PSQLException: Connection to 127.0.0.1:" + closedPort + " refused";
            for (int call = 0; call < 2; call++) {   // the first call's pool wait, then the one still hanging
                HealthCheck.Result result = check.call(Map.of());
                assertThat(result.getState()).isEqualTo(HealthCheck.State.DOWN);
                assertThat(result.getMessage()).hasValueSatisfying(m -> assertThat(m).startsWith(refused)
                        .endsWith("; the routes paused on: FATAL: terminating connection due to administrator command")
                        .doesNotContain("secret", "has not returned"));
            }
        }
    }

    /**
     * A broker that blocks producers (its disk past max-disk-usage, an address full under BLOCK; here agent.events
     * blocked through its address control, which withholds credits the same way) is no broker the coordinator can send
     * to: every event it sends waits. The check found it UP, since a connection still opens.
     */
    @Test
    void brokerCheckGoesDownWhileTheBrokerBlocksSendsToAgentEvents(@org.junit.jupiter.api.io.TempDir java.nio.file.Path folder)
            throws Exception {
        dev.agentcoordinator.infra.EmbeddedBroker broker = new dev.agentcoordinator.infra.EmbeddedBroker(
                FreePort.on("127.0.0.1"), folder.resolve("broker"));
        String url = broker.start();
        try (dev.agentcoordinator.infra.BrokerManagement management = dev.agentcoordinator.infra.BrokerManagement.open(
                dev.agentcoordinator.infra.Messaging.connectionFactory(url, "", ""), 5000)) {
            assertThat(management.invoke("broker", "createAddress", "agent.events", "ANYCAST"))
                    .hasValueSatisfying(a -> assertThat(a.succeeded()).as(String.valueOf(a.result())).isTrue());
            BrokerHealthCheck check = new BrokerHealthCheck(url, "", "", 1000);
            assertThat(check.call(Map.of()).getState()).isEqualTo(HealthCheck.State.UP);
            assertThat(management.invoke("address.agent.events", "block")).hasValueSatisfying(a -> assertThat(a.succeeded()).isTrue());
            assertDown(check, "the broker at " + url + " blocks sends: it ");
            assertThat(management.invoke("address.agent.events", "unblock")).hasValueSatisfying(a -> assertThat(a.succeeded()).isTrue());
            assertThat(check.call(Map.of()).getState()).isEqualTo(HealthCheck.State.UP);
        } finally {
            broker.close();
        }
    }

    /** A database that answers but refuses every write (a standby after a fail-over) is no database to work on. */
    @Test
    void databaseCheckGoesDownWhenPostgresAnswersReadOnly() {
        PGSimpleDataSource readOnly = new PGSimpleDataSource();
        readOnly.setURL(OpsCoordinator.shared().jdbcUrl());
        readOnly.setUser("postgres");
        readOnly.setOptions("-c default_transaction_read_only=on");
        assertDown(new DatabaseHealthCheck(readOnly, 1000), "database unreachable: SQLException: the database is read-only");

        PGSimpleDataSource writable = new PGSimpleDataSource();
        writable.setURL(OpsCoordinator.shared().jdbcUrl());
        writable.setUser("postgres");
        assertThat(new DatabaseHealthCheck(writable, 1000).call(Map.of()).getState()).isEqualTo(HealthCheck.State.UP);
    }

    private static PGSimpleDataSource dataSourceOn(int port) {
        PGSimpleDataSource dataSource = new PGSimpleDataSource();
        dataSource.setURL("jdbc:postgresql://127.0.0.1:" + port + "/none");
        dataSource.setUser("postgres");
        return dataSource;
    }

    private static void assertDown(org.apache.camel.health.HealthCheck check, String messageStart) {
        long started = System.nanoTime();
        HealthCheck.Result result = check.call(Map.of());
        assertThat(result.getState()).isEqualTo(HealthCheck.State.DOWN);
        assertThat(result.getMessage()).hasValueSatisfying(m -> assertThat(m).startsWith(messageStart));
        // bounded by the check's own 1 s, with room for a busy machine: it does not hang
        assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(10));
    }

    @Test
    void brokerCheckGoesDownWhenArtemisIsUnreachable() {
        int closedPort = FreePort.on("127.0.0.1");
        assertDown(new BrokerHealthCheck("tcp://127.0.0.1:" + closedPort, "", "", 1000),
                "broker unreachable at tcp://127.0.0.1:" + closedPort + ": ");
    }

    @Test
    void brokerCheckIsUpAgainstTheRunningBroker() {
        BrokerHealthCheck check = new BrokerHealthCheck(OpsCoordinator.shared().brokerUrl(), "", "", 2000);
        assertThat(check.call(Map.of()).getState()).isEqualTo(HealthCheck.State.UP);
    }
}
