package dev.agentcoordinator.api;

import dev.agentcoordinator.CoordinatorApp;
import dev.agentcoordinator.DatabaseTemplate;
import dev.agentcoordinator.RunningCoordinator;
import dev.agentcoordinator.config.CoordinatorSettings;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

/**
 * What the tests of a broker that blocks sends share: a coordinator on that broker, and the HTTP calls they make to it
 * (bounded by the client, so that a call left unanswered fails the test instead of hanging it).
 */
final class BlockedSendsFixture {
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private BlockedSendsFixture() {
    }

    /**
     * A coordinator on {@code brokerUrl} with a producer window of {@code producerWindowSize} bytes (the credits its
     * producers hold run out soon), its data under {@code folder}, its health checks' bound 1 s; {@code more}: settings.
     */
    static RunningCoordinator coordinatorOn(String brokerUrl, int producerWindowSize, Path folder, Map<String, String> more)
            throws Exception {
        Map<String, String> settings = new HashMap<>(Map.of(
                "broker.url", brokerUrl + "?producerWindowSize=" + producerWindowSize, "db.url", "", "db.embedded.port", "0",
                "http.port", "0", "data.dir", DatabaseTemplate.seeded(folder.resolve("data")).toString(),
                "health.timeout-ms", "1000", "workflows.dir", "routes/workflows", "demo-agents.enabled", "false"));
        settings.putAll(more);
        return CoordinatorApp.start(CoordinatorSettings.fromMap(settings));
    }

    static int status(String url) throws Exception {
        return get(url).statusCode();
    }

    static HttpResponse<String> get(String url) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    static HttpResponse<String> post(String url, String body) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(url)).header("Content-Type", "application/json")
                .timeout(Duration.ofSeconds(20)).POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
    }
}
