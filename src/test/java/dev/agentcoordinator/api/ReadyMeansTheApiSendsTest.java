package dev.agentcoordinator.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.agentcoordinator.CoordinatorApp;
import dev.agentcoordinator.RunningCoordinator;
import dev.agentcoordinator.config.CoordinatorSettings;
import dev.agentcoordinator.infra.EmbeddedBroker;
import dev.agentcoordinator.DatabaseTemplate;
import dev.agentcoordinator.infra.FreePort;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * After a broker outage, readiness must not say UP while the API still refuses POST /api/events with 503 (the
 * coordinator's own connections fail over a few seconds after a fresh probe connection succeeds). An operator's
 * finding on a standalone Artemis 2.44.0: ready 200 for about 6 s while every POST /api/events answered 503.
 */
class ReadyMeansTheApiSendsTest {
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private static final String NOTHING = "{\"type\": \"NOTHING_STARTS\", \"payload\": {}}";

    @TempDir
    Path folder;

    @Test
    void readinessStaysDownWhileTheApiRefusesSendsAfterABrokerOutage() throws Exception {
        int brokerPort = FreePort.on("127.0.0.1");
        EmbeddedBroker broker = new EmbeddedBroker(brokerPort, folder.resolve("broker"));
        String brokerUrl = broker.start();
        try (RunningCoordinator coordinator = CoordinatorApp.start(CoordinatorSettings.fromMap(Map.of(
                "broker.url", brokerUrl, "db.url", "", "db.embedded.port", "0", "http.port", "0",
                "data.dir", DatabaseTemplate.seeded(folder.resolve("data")).toString(),
                "workflows.dir", "routes/workflows", "demo-agents.enabled", "false")))) {
            String api = coordinator.httpUrl();
            assertThat(post(api + "/api/events").statusCode()).isEqualTo(202);
            broker.close();
            await().atMost(Duration.ofSeconds(20)).ignoreExceptions().until(() -> post(api + "/api/events").statusCode() == 503);
            broker = new EmbeddedBroker(brokerPort, folder.resolve("broker"));
            broker.start();
            List<String> lies = new ArrayList<>();
            // sampled every 200 ms until POST /api/events is taken again
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200)).until(() -> {
                int ready = get(api + "/observe/health/ready");
                int event = post(api + "/api/events").statusCode();
                if (ready == 200 && event == 503) {
                    lies.add(java.time.Instant.now() + ": ready 200, POST /api/events 503");
                }
                return event == 202;
            });
            assertThat(lies).as("readiness UP while the API refused sends").isEmpty();
        } finally {
            broker.close();
        }
    }

    private static int get(String url) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(5)).build(),
                HttpResponse.BodyHandlers.discarding()).statusCode();
    }

    private static HttpResponse<String> post(String url) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(url)).header("Content-Type", "application/json")
                .timeout(Duration.ofSeconds(5)).POST(HttpRequest.BodyPublishers.ofString(NOTHING)).build(),
                HttpResponse.BodyHandlers.ofString());
    }
}
