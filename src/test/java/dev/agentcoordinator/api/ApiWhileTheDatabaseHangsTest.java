package dev.agentcoordinator.api;

import dev.agentcoordinator.StartsChildProcesses;
import dev.agentcoordinator.CoordinatorApp;
import dev.agentcoordinator.RunningCoordinator;
import dev.agentcoordinator.config.CoordinatorSettings;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A database that hangs (it keeps its connections open and answers nothing: frozen here with SIGSTOP, as a network
 * partition or a stalled host would leave it) makes the HTTP API answer 503 within its bound,
 * {@code coordinator.http.db-timeout-ms}, and answer again once the database does. Before, a call whose statement
 * was under way waited for good, and the others for the pool's 30 s.
 * The engine's own statements are bounded too ({@code coordinator.db.socket-timeout-ms}): one under way fails.
 */
@StartsChildProcesses
class ApiWhileTheDatabaseHangsTest {
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @TempDir
    Path folder;

    @Test
    void apiCallsAnswer503WithinTheirBoundWhileTheDatabaseHangsAndAnswerAgainAfter() throws Exception {
        CoordinatorSettings settings = CoordinatorSettings.fromMap(Map.of(
                "data.dir", dev.agentcoordinator.DatabaseTemplate.seeded(folder.resolve("data")).toString(),
                "broker.embedded.port", "0",
                "http.port", "0",
                "demo-agents.enabled", "false",
                "workflows.dir", "routes/workflows",
                "http.db-timeout-ms", "1000",
                "db.socket-timeout-ms", "2000"));
        try (RunningCoordinator coordinator = CoordinatorApp.start(settings)) {
            String api = coordinator.httpUrl();
            List<String> paths = List.of("/api/executions?limit=1", "/api/executions/nothing-here", "/api/locks", "/api/agents",
                    "/api/workflows", "/api/events/nothing-here");
            for (String path : paths) {
                assertThat(get(api + path).statusCode()).as(path).isIn(200, 404);
            }
            List<Long> postgres = postgresProcesses(settings.dbEmbeddedDataDir());
            java.sql.Connection engineConnection = coordinator.dataSource().getConnection();   // one of the engine's, taken while it answers
            signal("STOP", postgres);
            try {
                List<CompletableFuture<String>> answers = new ArrayList<>();
                for (int round = 0; round < 2; round++) {   // more calls than the API's pool has connections
                    for (String path : paths) {
                        answers.add(CompletableFuture.supplyAsync(() -> timed(api + path)));
                    }
                }
                for (CompletableFuture<String> answer : answers) {
                    assertThat(answer.get()).matches("503 in \\d+ ms: \\{\"error\":\"the database cannot be reached; try again later\"}.*");
                    long ms = Long.parseLong(answer.get().replaceAll("^503 in (\\d+) ms.*$", "$1"));
                    // a connection (1 s at most), and at most one statement's wait for its answer (1 s), with room for the machine
                    assertThat(ms).as(answer.get()).isLessThan(8_000);
                }
                // the engine's statements have their bound too (coordinator.db.socket-timeout-ms): one fails, not waits for good
                long start = System.nanoTime();
                CompletableFuture<String> engineStatement = CompletableFuture.supplyAsync(() -> statementOn(engineConnection));
                String outcome = engineStatement.get(30, java.util.concurrent.TimeUnit.SECONDS);
                long ms = (System.nanoTime() - start) / 1_000_000;
                assertThat(outcome).as("after %d ms", ms).startsWith("failed: ").containsIgnoringCase("I/O error");
                assertThat(ms).as(outcome).isBetween(1_900L, 15_000L);
            } finally {
                signal("CONT", postgres);
                engineConnection.close();
            }
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
                    assertThat(get(api + "/api/executions?limit=1").statusCode()).isEqualTo(200));
        }
    }

    /** A statement on {@code connection}: "answered", or "failed: " and why. */
    private static String statementOn(java.sql.Connection connection) {
        try (java.sql.Statement statement = connection.createStatement()) {
            statement.execute("SELECT 1");
            return "answered";
        } catch (java.sql.SQLException e) {
            return "failed: " + e.getMessage();
        }
    }

    private static HttpResponse<String> get(String url) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(30)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static String timed(String url) {
        long start = System.nanoTime();
        try {
            HttpResponse<String> response = get(url);
            return response.statusCode() + " in " + (System.nanoTime() - start) / 1_000_000 + " ms: " + response.body()
                    + " (" + url + ")";
        } catch (Exception e) {
            return "no answer in " + (System.nanoTime() - start) / 1_000_000 + " ms: " + e + " (" + url + ")";
        }
    }

    /** The embedded PostgreSQL's server and every backend and helper process of it. */
    private static List<Long> postgresProcesses(Path dataDir) throws Exception {
        long postmaster = Long.parseLong(Files.readAllLines(dataDir.resolve("postmaster.pid")).get(0).trim());
        List<Long> pids = new ArrayList<>(List.of(postmaster));
        ProcessHandle.of(postmaster).orElseThrow().descendants().forEach(p -> pids.add(p.pid()));
        return pids;
    }

    private static void signal(String signal, List<Long> pids) throws Exception {
        List<String> command = new ArrayList<>(List.of("kill", "-" + signal));
        pids.forEach(pid -> command.add(Long.toString(pid)));
        assertThat(new ProcessBuilder(command).inheritIO().start().waitFor()).isZero();
    }
}
