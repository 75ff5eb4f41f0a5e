package dev.agentcoordinator.api;

import dev.agentcoordinator.CoordinatorApp;
import dev.agentcoordinator.DatabaseTemplate;
import dev.agentcoordinator.RunningCoordinator;
import dev.agentcoordinator.config.CoordinatorSettings;
import dev.agentcoordinator.engine.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * An agent message posted to {@code POST /api/messages} is read within {@code coordinator.input.max-json-tokens}, as
 * one on agent.messages is: the API read it within the default 1,000,000 whatever the setting said.
 */
class PostedAgentMessageTokenBoundTest {
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @TempDir
    Path folder;

    @Test
    void aPostedMessageOfMoreTokensThanTheSettingReadsIsRefusedNamingIt() throws Exception {
        CoordinatorSettings settings = CoordinatorSettings.fromMap(Map.of(
                "data.dir", DatabaseTemplate.seeded(folder.resolve("data")).toString(),
                "broker.embedded.port", "0",
                "http.port", "0",
                "demo-agents.enabled", "false",
                "workflows.dir", "routes/workflows",
                "input.max-json-tokens", "1000"));
        try (RunningCoordinator coordinator = CoordinatorApp.start(settings)) {
            HttpResponse<String> within = post(coordinator, message(500));
            assertThat(within.statusCode()).as(within.body()).isEqualTo(202);

            HttpResponse<String> beyond = post(coordinator, message(2_000));
            assertThat(beyond.statusCode()).as(beyond.body()).isEqualTo(400);
            assertThat(Json.parse(beyond.body()).path("error").asText()).isEqualTo("agent message has more than 1,000 JSON tokens"
                    + " (keys, values, brackets): at most 1,000 are read (coordinator.input.max-json-tokens)");
        }
    }

    /** A notice to an agent of this test's own, its payload {@code zeros} zeros long. */
    private static String message(int zeros) {
        return "{\"from\": \"bound-asker\", \"to\": \"bound-answerer\", \"type\": \"Q\", \"payload\": {\"n\": ["
                + "0,".repeat(zeros - 1) + "0]}}";
    }

    private static HttpResponse<String> post(RunningCoordinator coordinator, String body) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(coordinator.httpUrl() + "/api/messages")).timeout(Duration.ofSeconds(30))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
    }
}
