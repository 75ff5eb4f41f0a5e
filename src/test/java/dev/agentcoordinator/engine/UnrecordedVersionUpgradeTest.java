package dev.agentcoordinator.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.agentcoordinator.CoordinatorApp;
import dev.agentcoordinator.DatabaseTemplate;
import dev.agentcoordinator.RunningCoordinator;
import dev.agentcoordinator.config.CoordinatorSettings;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * An operator's upgrade from a release before schema 11 (ccedffc, schema 8): executions in flight of a workflow whose
 * shipped definition changed (response_refinement version 1 -> 2) "go on with version 2" (a WARN), and the reply of
 * their step in flight was ignored as a "duplicate reply ... another reply settled that attempt first" while the attempt
 * stayed running; the executions hung until their workflow timeout (5 of 5 failed), and a retry hung the same way.
 * Here the pre-schema-11 execution is made by deleting its recorded definition; version 2 only bumps the number (the
 * same steps): the replies were refused all the same, since every transition's guard compares the execution's
 * workflow_version with the version of the route that takes the reply.
 */
class UnrecordedVersionUpgradeTest {
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private static final String V1 = """
            id: upg
            name: upgraded
            trigger: UPG
            version: 1
            steps:
              - { id: first, agent: nobody, action: work }
              - { id: last, agent: nobody, action: work, depends_on: [first] }
            config: { timeout_ms: 600000 }
            """;
    private static final String V2 = """
            id: upg
            name: upgraded
            trigger: UPG
            version: 2
            steps:
              - { id: first, agent: nobody, action: work, description: "the same work, described" }
              - { id: last, agent: nobody, action: work, depends_on: [first] }
            config: { timeout_ms: 600000 }
            """;

    @TempDir
    Path folder;

    @Test
    void aReplyOfAnExecutionWhoseVersionWasNeverRecordedIsNotIgnoredAsADuplicate() throws Exception {
        Path workflows = Files.createDirectories(folder.resolve("workflows"));
        Files.writeString(workflows.resolve("upg.yaml"), V1);
        String data = DatabaseTemplate.seeded(folder.resolve("data")).toString();
        Map<String, String> settings = Map.of("broker.embedded.port", "0", "db.url", "", "db.embedded.port", "0",
                "http.port", "0", "data.dir", data, "workflows.dir", workflows.toString(), "demo-agents.enabled", "false");
        String execution;
        try (RunningCoordinator before = CoordinatorApp.start(CoordinatorSettings.fromMap(settings))) {
            String api = before.httpUrl();
            String eventId = Json.parse(post(api + "/api/events", "{\"type\": \"UPG\", \"payload\": {}}").body()).path("event_id").asText();
            String[] found = new String[1];
            await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() ->
                    (found[0] = Json.parse(get(api + "/api/events/" + eventId)).path("execution_id").asText(null)) != null);
            execution = found[0];
            await().atMost(Duration.ofSeconds(30)).until(() -> "running".equals(step(api, execution, "first").path("status").asText()));
            // as a coordinator before schema 11 left it: no workflow version recorded
            JdbcTemplate jdbc = new JdbcTemplate(before.dataSource());
            jdbc.update("DELETE FROM workflow_definition_runners WHERE workflow_id = 'upg'");
            jdbc.update("DELETE FROM workflow_definitions WHERE workflow_id = 'upg'");
        }
        Files.writeString(workflows.resolve("upg.yaml"), V2);
        try (RunningCoordinator after = CoordinatorApp.start(CoordinatorSettings.fromMap(settings))) {
            String api = after.httpUrl();
            assertThat(post(api + "/api/executions/" + execution + "/steps/first/reply", "{\"status\": \"ok\", \"output\": {}}")
                    .statusCode()).isEqualTo(202);
            // the reply settles the attempt in flight (or is refused saying why); it is not taken for a duplicate
            await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
                JsonNode got = Json.parse(get(api + "/api/executions/" + execution + "?outputs=false"));
                assertThat(got.path("ignored_replies").toString()).doesNotContain("another reply settled that attempt first");
                assertThat(step(api, execution, "first").path("status").asText()).isEqualTo("completed");
            });
            await().atMost(Duration.ofSeconds(20)).until(() -> "running".equals(step(api, execution, "last").path("status").asText()));
            assertThat(post(api + "/api/executions/" + execution + "/steps/last/reply", "{\"status\": \"ok\", \"output\": {}}")
                    .statusCode()).isEqualTo(202);
            await().atMost(Duration.ofSeconds(20)).until(() ->
                    "completed".equals(Json.parse(get(api + "/api/executions/" + execution + "?outputs=false")).path("status").asText()));
        }
    }

    private static JsonNode step(String api, String execution, String stepId) throws Exception {
        for (JsonNode step : Json.parse(get(api + "/api/executions/" + execution + "?outputs=false")).path("steps")) {
            if (stepId.equals(step.path("step_id").asText())) {
                return step;
            }
        }
        return com.fasterxml.jackson.databind.node.MissingNode.getInstance();
    }

    private static String get(String url) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(30)).build(),
                HttpResponse.BodyHandlers.ofString()).body();
    }

    private static HttpResponse<String> post(String url, String body) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(url)).header("Content-Type", "application/json")
                .timeout(Duration.ofSeconds(30)).POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
    }
}
