package dev.agentcoordinator;

import dev.agentcoordinator.config.CoordinatorSettings;
import dev.agentcoordinator.infra.EmbeddedPostgresProcess;
import dev.agentcoordinator.infra.FreePort;
import dev.agentcoordinator.infra.Messaging;
import dev.agentcoordinator.infra.TestJvm;
import jakarta.jms.Connection;
import org.apache.camel.ServiceStatus;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.awaitility.Awaitility.await;

/**
 * Boots the whole application in-process with the shipped workflows, on embedded broker and database,
 * free ports and a temp data dir, then stops it and checks that it let go of its ports.
 */
@StartsChildProcesses
class StartupTest {

    @TempDir
    Path tmp;

    @Test
    void startsEverythingAndStopsCleanly() throws Exception {
        CoordinatorSettings settings = CoordinatorSettings.fromMap(Map.of(
                "broker.url", "", "db.url", "",
                "broker.embedded.port", "0", "db.embedded.port", "0", "http.port", "0",
                "data.dir", tmp.resolve("data").toString(),
                "workflows.dir", "routes/workflows",
                "demo-agents.enabled", "false"));

        List<Integer> ports = new ArrayList<>();
        try (RunningCoordinator coordinator = CoordinatorApp.start(settings)) {
            assertThat(coordinator.camelContext().getStatus()).isEqualTo(ServiceStatus.Started);
            assertThat(coordinator.camelContext().getName()).isEqualTo("agent-coordinator");
            // registered for Hawtio after ready (DeferredMBeanRegistration): one MBean per route
            javax.management.ObjectName routeMBeans = new javax.management.ObjectName("org.apache.camel:context="
                    + coordinator.camelContext().getManagementName() + ",type=routes,*");
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(java.lang.management.ManagementFactory
                    .getPlatformMBeanServer().queryNames(routeMBeans, null)).hasSize(coordinator.camelContext().getRoutesSize()));

            try (Statement s = coordinator.dataSource().getConnection().createStatement();
                 ResultSet rs = s.executeQuery("SELECT count(*) FROM workflow_executions")) {
                assertThat(rs.next()).isTrue();
            }

            try (Connection connection = Messaging.connectionFactory(coordinator.brokerUrl(), null, null).createConnection()) {
                connection.start();
            }

            HttpResponse<String> response = HttpClient.newHttpClient().send(
                    HttpRequest.newBuilder(URI.create(coordinator.httpUrl() + "/")).timeout(Duration.ofSeconds(10)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(response.statusCode()).isBetween(200, 499);

            assertThat(coordinator.catalog().all()).isNotEmpty();
            assertThat(coordinator.summary()).contains(coordinator.brokerUrl(), coordinator.jdbcUrl(), coordinator.httpUrl())
                    .contains("interview_completed <- INTERVIEW_COMPLETED")
                    .contains("  Operations: " + coordinator.httpUrl() + "/observe/health, /observe/metrics, /observe/jolokia (Hawtio)");
            ports.add(URI.create(coordinator.brokerUrl()).getPort());
            ports.add(URI.create(coordinator.jdbcUrl().substring("jdbc:".length())).getPort());
            ports.add(coordinator.settings().httpPort());
        }

        assertThat(ports).allMatch(port -> port > 0);
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(ports).allMatch(StartupTest::isFree));
    }

    @Test
    void whileItsRoutesAreNotRunningTheApiAnswers503InJsonNever404() throws Exception {
        // the HTTP server listens from Camel's start; the API's routes start with the consumers, after
        // the database is ready (a fresh one initialises meanwhile), and stop before the server does
        int port = FreePort.on("127.0.0.1");
        CoordinatorSettings settings = CoordinatorSettings.fromMap(Map.of(
                "broker.url", "", "db.url", "",
                "broker.embedded.port", "0", "db.embedded.port", "0",
                "http.host", "127.0.0.1", "http.port", Integer.toString(port),
                "data.dir", tmp.resolve("gate").toString(),
                "workflows.dir", "routes/workflows",
                "demo-agents.enabled", "false"));
        URI listing = URI.create("http://127.0.0.1:" + port + "/api/executions");
        List<HttpResponse<String>> whileStopping;
        try (ApiPoller poller = new ApiPoller(listing); ApiPoller readiness = new ApiPoller(URI.create("http://127.0.0.1:" + port + "/observe/health/ready"))) {
            try (RunningCoordinator coordinator = CoordinatorApp.start(settings)) {
                // readiness is answered DOWN by the gate itself while it is closed, not by Camel's checks, whose
                // registry the start is still filling (a probe was once answered 500 there)
                List<HttpResponse<String>> notReady = readiness.answersSoFar().stream().filter(r -> r.statusCode() != 200).toList();
                assertThat(notReady).allSatisfy(answer -> assertThat(answer.statusCode()).isEqualTo(503));
                assertThat(notReady).as("answered by the gate").anySatisfy(answer -> {
                    assertThat(answer.headers().firstValue("Retry-After")).hasValue("1");
                    assertThat(answer.body()).isEqualTo("{\"status\":\"DOWN\"}");
                });
                List<HttpResponse<String>> whileStarting = poller.answersSoFar();
                List<HttpResponse<String>> refused = whileStarting.stream().filter(r -> r.statusCode() != 200).toList();
                System.out.printf("API answers while starting: %d, of which 503: %d%n", whileStarting.size(), refused.size());
                assertThat(refused).allSatisfy(answer -> assertClosedGate(answer, "the coordinator is starting; try again shortly"));
                assertThat(refused).as("answers before the routes ran").isNotEmpty();
                assertThat(HttpClient.newHttpClient().send(HttpRequest.newBuilder(listing).build(),
                        HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200);
            }
            whileStopping = poller.answersSoFar();
        }
        // the poller's one request in flight when the starting answers were taken comes back after them: answered as
        // starting, it is the first of these (a fresh-clone CI run met it)
        if (!whileStopping.isEmpty() && whileStopping.get(0).body().contains("the coordinator is starting")) {
            whileStopping = whileStopping.subList(1, whileStopping.size());
        }
        List<HttpResponse<String>> refused = whileStopping.stream().filter(r -> r.statusCode() != 200).toList();
        System.out.printf("API answers while running and stopping: %d, of which 503: %d%n", whileStopping.size(), refused.size());
        assertThat(refused).allSatisfy(answer -> assertClosedGate(answer, "the coordinator is stopping"));
    }

    private static void assertClosedGate(HttpResponse<String> answer, String error) {
        assertThat(answer.statusCode()).isEqualTo(503);
        assertThat(answer.headers().firstValue("Content-Type")).hasValue("application/json");
        assertThat(answer.headers().firstValue("Retry-After")).hasValue("1");
        assertThat(answer.body()).isEqualTo("{\"error\":\"" + error + "\"}");
    }

    /** Asks for one URL every 10 ms (a client's polling pace) until closed, keeping every answer. */
    private static final class ApiPoller implements AutoCloseable {
        private final List<HttpResponse<String>> answers = new ArrayList<>();
        private final Thread thread;
        private volatile boolean polling = true;

        ApiPoller(URI uri) {
            HttpClient http = HttpClient.newHttpClient();
            thread = new Thread(() -> {
                try {
                    while (polling) {
                        try {
                            HttpResponse<String> answer = http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(5)).build(),
                                    HttpResponse.BodyHandlers.ofString());
                            synchronized (answers) {
                                answers.add(answer);
                            }
                        } catch (IOException notListening) {
                            // asked again after the pause
                        }
                        Thread.sleep(10);
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, "api-poller");
            thread.start();
        }

        /** The answers since the last call. */
        List<HttpResponse<String>> answersSoFar() {
            synchronized (answers) {
                List<HttpResponse<String>> copy = List.copyOf(answers);
                answers.clear();
                return copy;
            }
        }

        @Override
        public void close() throws InterruptedException {
            polling = false;
            thread.join(10_000);
        }
    }

    @Test
    void aTakenHttpPortStopsStartUpWithAnErrorNamingIt() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            CoordinatorSettings settings = CoordinatorSettings.fromMap(Map.of(
                    "broker.url", "", "db.url", "",
                    "broker.embedded.port", "0", "db.embedded.port", "0",
                    "http.host", "127.0.0.1", "http.port", Integer.toString(taken.getLocalPort()),
                    "data.dir", tmp.resolve("taken").toString(),
                    "workflows.dir", "routes/workflows",
                    "demo-agents.enabled", "false"));

            assertThatThrownBy(() -> CoordinatorApp.start(settings).close())
                    .hasMessageContaining("127.0.0.1:" + taken.getLocalPort())
                    .hasMessageContaining("coordinator.http.port");
            // refused before anything started: no broker or database came up (and went down) for nothing
            assertThat(tmp.resolve("taken").resolve("artemis")).doesNotExist();
            assertThat(tmp.resolve("taken").resolve("postgres")).doesNotExist();
        }
    }

    /** Refused at once, not after the embedded database has started beside it (seconds on a fresh folder). */
    @Test
    void aTakenEmbeddedBrokerPortStopsStartUpBeforeTheDatabaseStarts() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            CoordinatorSettings settings = CoordinatorSettings.fromMap(Map.of(
                    "broker.url", "", "db.url", "",
                    "broker.embedded.port", Integer.toString(taken.getLocalPort()), "db.embedded.port", "0",
                    "http.port", "0",
                    "data.dir", tmp.resolve("broker-port-taken").toString(),
                    "workflows.dir", "routes/workflows",
                    "demo-agents.enabled", "false"));

            assertThatThrownBy(() -> CoordinatorApp.start(settings).close())
                    .hasMessage("the embedded broker could not listen on 127.0.0.1:" + taken.getLocalPort()
                            + " (coordinator.broker.embedded.port): is the port in use? Port 0 picks a free one.");
            assertThat(tmp.resolve("broker-port-taken").resolve("postgres")).doesNotExist();
        }
    }

    @Test
    void aDatabaseThatCannotBeReachedStopsStartUpWithAnErrorNamingItAndTheSetting() throws Exception {
        int port = FreePort.on("127.0.0.1");   // nothing listens on it
        CoordinatorSettings settings = CoordinatorSettings.fromMap(Map.of(
                "broker.url", "", "db.url", "jdbc:postgresql://127.0.0.1:" + port + "/coordinator?password=secret",
                "db.pool.connection-timeout-ms", "1000", "db.start-wait-ms", "2500",
                "broker.embedded.port", "0", "http.port", "0",
                "data.dir", tmp.resolve("no-database").toString(),
                "workflows.dir", "routes/workflows",
                "demo-agents.enabled", "false"));

        assertThatThrownBy(() -> CoordinatorApp.start(settings).close())
                .hasMessageStartingWith("could not connect to or migrate the database at jdbc:postgresql://127.0.0.1:" + port
                        + "/coordinator?password=**** (coordinator.db.url): ")
                .hasMessageContaining("Check that the hostname and port are correct");   // the driver's words
    }

    /**
     * A database of one's own that is not up yet when the coordinator starts is waited for (coordinator.db.start-wait-ms),
     * a WARN line each try: a chaos run saw both coordinators exit when PostgreSQL restarted as they started.
     */
    @Test
    void aDatabaseThatComesUpWhileTheCoordinatorStartsIsWaitedFor() throws Exception {
        int port = FreePort.on("127.0.0.1");   // nothing listens on it yet
        CoordinatorSettings settings = CoordinatorSettings.fromMap(Map.of(
                "broker.url", "", "db.url", "jdbc:postgresql://127.0.0.1:" + port + "/postgres",
                "db.pool.connection-timeout-ms", "1000",
                "broker.embedded.port", "0", "http.port", "0",
                "data.dir", tmp.resolve("database-later").toString(),
                "workflows.dir", "routes/workflows",
                "demo-agents.enabled", "false"));
        try (dev.agentcoordinator.engine.CapturedLog log = dev.agentcoordinator.engine.CapturedLog.ofRoot()) {
            java.util.concurrent.FutureTask<RunningCoordinator> starting = new java.util.concurrent.FutureTask<>(() -> CoordinatorApp.start(settings));
            new Thread(starting, "starting-before-its-database").start();
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(60)).until(() -> log.lines().stream()
                    .anyMatch(line -> line.contains("(try 1); trying again in 2 s")));
            // migrated already: what is shown is the wait, and a fresh schema's migrations took seconds after it
            try (dev.agentcoordinator.infra.EmbeddedDatabase database = new dev.agentcoordinator.infra.EmbeddedDatabase(port,
                    DatabaseTemplate.seeded(tmp.resolve("database-later-db")).resolve("postgres"))) {
                database.start();
                try (RunningCoordinator coordinator = starting.get(90, java.util.concurrent.TimeUnit.SECONDS)) {
                    assertThat(coordinator.httpUrl()).isNotBlank();
                }
            }
        }
    }

    /** A login PostgreSQL refuses names the user and the settings that give it; it named coordinator.db.url only. */
    @Test
    void aLoginTheDatabaseRefusesNamesTheUserAndItsSettings() throws Exception {
        int port = FreePort.on("127.0.0.1");
        try (dev.agentcoordinator.infra.EmbeddedDatabase database = new dev.agentcoordinator.infra.EmbeddedDatabase(port,
                DatabaseTemplate.seedCluster(tmp.resolve("login-refused-postgres")))) {
            database.start();
            CoordinatorSettings settings = CoordinatorSettings.fromMap(Map.of(
                    "broker.url", "", "db.url", "jdbc:postgresql://127.0.0.1:" + port + "/postgres", "db.user", "no_such_role",
                    "broker.embedded.port", "0", "http.port", "0",
                    "data.dir", tmp.resolve("login-refused").toString(),
                    "workflows.dir", "routes/workflows",
                    "demo-agents.enabled", "false"));
            assertThatThrownBy(() -> CoordinatorApp.start(settings).close())
                    .hasMessageContaining("(coordinator.db.url) as user \"no_such_role\" (coordinator.db.user, coordinator.db.password): ")
                    .hasMessageContaining("no_such_role");
        }
    }

    /** A data folder the file system refuses is named with its setting and why; the message was its path alone. */
    @Test
    void aDataFolderThatCannotBeMadeIsNamedWithItsSetting() {
        CoordinatorSettings settings = CoordinatorSettings.fromMap(Map.of(
                "broker.url", "", "db.url", "", "broker.embedded.port", "0", "db.embedded.port", "0", "http.port", "0",
                "data.dir", "/proc/no-such-coordinator-data",
                "workflows.dir", "routes/workflows", "demo-agents.enabled", "false"));
        assertThatThrownBy(() -> CoordinatorApp.start(settings).close())
                .hasMessageStartingWith("cannot use the data folder /proc/no-such-coordinator-data")
                .hasMessageContaining("(coordinator.data.dir");
    }

    /** The migrations' own URL, when it is the one that cannot be reached, is the one named, with its setting. */
    @Test
    void aMigrationUrlThatCannotBeReachedIsNamedWithItsSetting() throws Exception {
        int port = FreePort.on("127.0.0.1");   // nothing listens on it
        int other = FreePort.on("127.0.0.1");
        CoordinatorSettings settings = CoordinatorSettings.fromMap(Map.of(
                "broker.url", "", "db.url", "jdbc:postgresql://127.0.0.1:" + other + "/coordinator",
                "db.migration-url", "jdbc:postgresql://127.0.0.1:" + port + "/migrations",
                "db.pool.connection-timeout-ms", "1000", "db.start-wait-ms", "0",
                "broker.embedded.port", "0", "http.port", "0",
                "data.dir", tmp.resolve("no-migration-database").toString(),
                "workflows.dir", "routes/workflows",
                "demo-agents.enabled", "false"));

        assertThatThrownBy(() -> CoordinatorApp.start(settings).close())
                .hasMessageStartingWith("could not migrate the database at jdbc:postgresql://127.0.0.1:" + port
                        + "/migrations (coordinator.db.migration-url): ")
                .hasMessageContaining("Connection to 127.0.0.1:" + port + " refused");
    }

    /**
     * A standalone broker that refuses the coordinator's login stops the start, naming the user and the settings, also
     * with the demo agents off (the production shape). Before, the coordinator started and ran on, not ready, logging
     * the refusal every 5 s per consumer, and its outage watch called the broker unreachable.
     */
    @Test
    void aBrokerThatRefusesTheLoginStopsStartUpNamingTheUserAndTheSettings() throws Exception {
        int port = FreePort.on("127.0.0.1");
        org.apache.activemq.artemis.core.config.Configuration config = new org.apache.activemq.artemis.core.config.impl.ConfigurationImpl()
                .setPersistenceEnabled(false).setSecurityEnabled(true)
                .addAcceptorConfiguration("tcp", "tcp://127.0.0.1:" + port);
        org.apache.activemq.artemis.core.config.impl.SecurityConfiguration users = new org.apache.activemq.artemis.core.config.impl.SecurityConfiguration();
        users.addUser("coordinator", "the-right-one");
        users.addRole("coordinator", "admin");
        org.apache.activemq.artemis.core.server.embedded.EmbeddedActiveMQ broker = new org.apache.activemq.artemis.core.server.embedded.EmbeddedActiveMQ()
                .setConfiguration(config).setSecurityManager(new org.apache.activemq.artemis.spi.core.security.ActiveMQJAASSecurityManager(
                        org.apache.activemq.artemis.spi.core.security.jaas.InVMLoginModule.class.getName(), users));
        broker.start();
        try {
            CoordinatorSettings settings = CoordinatorSettings.fromMap(Map.of(
                    "broker.url", "tcp://127.0.0.1:" + port, "broker.user", "coordinator", "broker.password", "a-wrong-one",
                    "db.url", "", "db.embedded.port", "0", "http.port", "0",
                    "data.dir", DatabaseTemplate.seeded(tmp.resolve("wrong-login")).toString(),
                    "workflows.dir", "routes/workflows",
                    "demo-agents.enabled", "false"));
            assertTimeoutPreemptively(Duration.ofSeconds(60), () -> assertThatThrownBy(() -> CoordinatorApp.start(settings).close())
                    .hasMessageStartingWith("the broker at tcp://127.0.0.1:" + port + " (coordinator.broker.url) refused the login of user"
                            + " \"coordinator\" (coordinator.broker.user, coordinator.broker.password): ")
                    .hasMessageContaining("AMQ229031"));
        } finally {
            broker.stop();
        }
    }

    @Test
    void aBrokerTheDemoAgentsCannotReachStopsStartUpWithAnErrorNamingItAndTheSetting() throws Exception {
        int port = FreePort.on("127.0.0.1");   // nothing listens on it
        CoordinatorSettings settings = CoordinatorSettings.fromMap(Map.of(
                "broker.url", "tcp://127.0.0.1:" + port, "db.url", "",
                "db.embedded.port", "0", "http.port", "0",
                "data.dir", DatabaseTemplate.seeded(tmp.resolve("no-broker")).toString(),
                "workflows.dir", "routes/workflows",
                "demo-agents.enabled", "true"));

        assertThatThrownBy(() -> CoordinatorApp.start(settings).close())
                .hasMessageStartingWith("the demo agents cannot consume from the broker at tcp://127.0.0.1:" + port
                        + " (coordinator.broker.url): agent ")
                .hasMessageContaining("AMQ219007");
    }

    /**
     * A stop while the broker cannot be reached ends: Camel's JMS consumers roll their sessions back as they close, and
     * each waited for a reconnection that did not come, one after the other (over two minutes, measured by hand, until
     * a SIGKILL). The connections under Camel are closed once its stop has taken longer than its grace, which is short
     * while the broker is known to be gone (it was the whole 25 s, and Camel's 15 s graceful stop before them).
     */
    @Test
    void aStopWhileTheBrokerCannotBeReachedEnds() throws Exception {
        try (dev.agentcoordinator.infra.EmbeddedBroker broker = new dev.agentcoordinator.infra.EmbeddedBroker(0, tmp.resolve("outside-broker"));
             dev.agentcoordinator.infra.BrokerProxy proxy = new dev.agentcoordinator.infra.BrokerProxy(URI.create(broker.start()).getPort())) {
            RunningCoordinator running = CoordinatorApp.start(CoordinatorSettings.fromMap(Map.of(
                    "broker.url", "tcp://127.0.0.1:" + proxy.port(), "db.url", "", "db.embedded.port", "0", "http.port", "0",
                    "data.dir", DatabaseTemplate.seeded(tmp.resolve("broker-gone")).toString(),
                    "workflows.dir", "routes/workflows",
                    "demo-agents.enabled", "false")));
            try {
                // killed, as kill -9 would: its connections reset, none taken again; the clients try to reconnect for ever
                proxy.cut();
                await().atMost(Duration.ofSeconds(10)).until(running::brokerKnownUnreachable);

                // the connections under Camel are cleaned up without a word to the broker: a close told it of each session
                // and waited the call timeout (10 s) for each answer, one session after the other, for minutes (by hand, a
                // standalone broker killed under a coordinator: over 150 s; this test's broker does not get there)
                assertTimeoutPreemptively(Duration.ofSeconds(15), running::close);
            } finally {
                running.close();   // stopped already, unless the test failed first: its embedded PostgreSQL is not left behind
            }
        }
        assertThat(tmp.resolve("broker-gone").resolve("postgres").resolve("postmaster.pid")).doesNotExist();
    }

    @Test
    void aSecondCoordinatorOnTheSameDataFolderStopsStartUpNamingIt() throws Exception {
        Path data = tmp.resolve("shared");
        CoordinatorSettings settings = CoordinatorSettings.fromMap(Map.of(
                "broker.url", "", "db.url", "",
                "broker.embedded.port", "0", "db.embedded.port", "0", "http.port", "0",
                "data.dir", DatabaseTemplate.seeded(data).toString(),
                "workflows.dir", "routes/workflows",
                "demo-agents.enabled", "false"));
        try (RunningCoordinator first = CoordinatorApp.start(settings)) {
            // before, the second one's broker waited for the journal's lock for good: start-up hung without a word
            assertTimeoutPreemptively(Duration.ofSeconds(60), () ->
                    assertThatThrownBy(() -> CoordinatorApp.start(settings).close())
                            .hasMessageContaining(data.toString())
                            .hasMessageContaining("in use by another running coordinator")
                            .hasMessageContaining("coordinator.data.dir"));
            assertThat(first.camelContext().getStatus()).isEqualTo(ServiceStatus.Started);
            try (Statement s = first.dataSource().getConnection().createStatement();
                 ResultSet rs = s.executeQuery("SELECT 1")) {
                assertThat(rs.next()).as("the first coordinator's database is untouched").isTrue();
            }
        }
    }

    @Test
    void aStopAskedForWhileStartingLeavesNoDatabaseServerBehind() throws Exception {
        Path data = tmp.resolve("stopped-while-starting");
        Process child = childCoordinator(data, "-Dcoordinator.demo-agents.enabled=false");
        try (BufferedReader output = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            // the database listens before its migrations ran and Camel started: stop the JVM there
            while ((line = output.readLine()) != null && !line.contains("Embedded PostgreSQL listening")) {
                assertThat(line).doesNotContain("Agent Coordinator started");
            }
            assertThat(line).as("the child's database started").isNotNull();
            long server = EmbeddedPostgresProcess.of(data.resolve("postgres")).orElseThrow().pid();
            child.toHandle().destroy();   // SIGTERM, as Ctrl-C or a service manager would (Process.destroy would close the output too)
            StringBuilder rest = new StringBuilder();
            while ((line = output.readLine()) != null) {
                rest.append(line).append('\n');
            }
            assertThat(child.waitFor(60, TimeUnit.SECONDS)).as("the child JVM ended").isTrue();
            // a stop is no failure: no ERROR with a stack trace for what the stop closed under the start
            assertThat(rest.toString()).doesNotContain("Agent Coordinator failed to start");
            try {
                await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
                        assertThat(ProcessHandle.of(server).filter(ProcessHandle::isAlive)).as("PostgreSQL pid " + server).isEmpty());
            } finally {
                ProcessHandle.of(server).ifPresent(ProcessHandle::destroyForcibly);   // the test leaves no server behind
            }
        } finally {
            child.destroyForcibly();
        }
    }

    @Test
    void exitWhenReadyStartsEverythingThenStopsAndTheJvmEnds() throws Exception {
        Path data = tmp.resolve("exit-when-ready");
        Process child = childCoordinator(data, "--exit-when-ready");
        try {
            String output = assertTimeoutPreemptively(Duration.ofSeconds(120),   // read until the JVM ends, on its own
                    () -> new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
            assertThat(child.waitFor(30, TimeUnit.SECONDS)).as(output).isTrue();
            assertThat(child.exitValue()).as(output).isZero();
            assertThat(output).contains("Agent Coordinator started", "Demo agents: on", "interview_completed <- INTERVIEW_COMPLETED")
                    .contains("Embedded PostgreSQL stopped");
            assertThat(output.indexOf("Embedded PostgreSQL stopped")).isGreaterThan(output.indexOf("Agent Coordinator started"));
            assertThat(EmbeddedPostgresProcess.of(data.resolve("postgres"))).as("no database server left running").isEmpty();
        } finally {
            child.destroyForcibly();
        }
    }

    /**
     * README "Logs": with coordinator.log.format=json, stdout carries one JSON object per line for a log shipper,
     * the start-up summary included (one INFO event whose message is the summary), not the summary's plain lines.
     */
    @Test
    void inTheJsonFormatEveryLineOnStdoutIsAJsonObjectTheSummaryToo() throws Exception {
        Path data = tmp.resolve("json");
        Path stderr = tmp.resolve("json-stderr.log");
        Process child = new ProcessBuilder(childCoordinatorCommand(data, "-Dcoordinator.log.format=json",
                "-Dcoordinator.demo-agents.enabled=false", "--exit-when-ready"))
                .redirectError(stderr.toFile()).start();
        try {
            String output = assertTimeoutPreemptively(Duration.ofSeconds(120),
                    () -> new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
            assertThat(child.waitFor(30, TimeUnit.SECONDS)).as(output).isTrue();
            assertThat(child.exitValue()).as(output + java.nio.file.Files.readString(stderr)).isZero();
            com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
            List<com.fasterxml.jackson.databind.JsonNode> events = new ArrayList<>();
            for (String line : output.split("\r?\n")) {   // JsonLayout ends each event with CRLF
                assertThat(line).as("a line on stdout").startsWith("{").endsWith("}");
                events.add(json.readTree(line));
            }
            List<com.fasterxml.jackson.databind.JsonNode> summaries = events.stream()
                    .filter(event -> event.path("message").asText().startsWith("Agent Coordinator started")).toList();
            assertThat(summaries).as(output).hasSize(1);
            assertThat(summaries.get(0).path("level").asText()).isEqualTo("INFO");
            assertThat(summaries.get(0).path("loggerName").asText()).isEqualTo(CoordinatorApp.class.getName());
            assertThat(summaries.get(0).path("message").asText()).contains("\n  HTTP API:  http://", "\n  Demo agents: off",
                    "\n    interview_completed <- INTERVIEW_COMPLETED");
            assertThat(java.nio.file.Files.readString(stderr)).doesNotContain("Agent Coordinator started");
        } finally {
            child.destroyForcibly();
        }
    }

    /**
     * CoordinatorApp in a JVM of its own on embedded defaults, free ports and {@code data}; an argument
     * starting with -D is a JVM option, any other goes to the application.
     */
    private static Process childCoordinator(Path data, String... extra) throws IOException {
        return new ProcessBuilder(childCoordinatorCommand(data, extra)).redirectErrorStream(true).start();
    }

    private static List<String> childCoordinatorCommand(Path data, String... extra) {
        List<String> command = new ArrayList<>(List.of(TestJvm.java()));
        command.addAll(TestJvm.quickStartOptions());
        command.addAll(List.of(TestJvm.vertxCacheIn(data.getParent()), "-cp", TestJvm.classpath(),
                "-Dcoordinator.data.dir=" + DatabaseTemplate.seeded(data), "-Dcoordinator.http.port=0",
                "-Dcoordinator.broker.embedded.port=0", "-Dcoordinator.db.embedded.port=0",
                "-Dcoordinator.workflows.dir=routes/workflows"));
        List<String> appArgs = new ArrayList<>();
        for (String arg : extra) {
            (arg.startsWith("-D") ? command : appArgs).add(arg);
        }
        command.add(CoordinatorApp.class.getName());
        command.addAll(appArgs);
        return command;
    }

    private static boolean isFree(int port) {
        try (ServerSocket socket = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
