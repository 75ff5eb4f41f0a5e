package dev.agentcoordinator.agent.demo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.agentcoordinator.CoordinatorApp;
import dev.agentcoordinator.DatabaseTemplate;
import dev.agentcoordinator.RunningCoordinator;
import dev.agentcoordinator.TestFolders;
import dev.agentcoordinator.config.CoordinatorSettings;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * README "Configuration": coordinator.demo-agents.concurrency is the consumers per demo agent, for the demo agents
 * a coordinator runs in-process (coordinator.demo-agents.enabled) as for DemoAgentsMain's.
 */
class InProcessDemoAgentsConcurrencyTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void theInProcessDemoAgentsTakeTheConcurrencySetting() throws Exception {
        Path data = TestFolders.create("demo-agents-concurrency");
        Map<String, String> overrides = new HashMap<>(Map.of(
                "data.dir", DatabaseTemplate.seeded(data).toString(), "broker.url", "", "db.url", "",
                "broker.embedded.port", "0", "http.port", "0", "http.host", "127.0.0.1",
                "workflows.dir", "routes/workflows", "demo-agents.enabled", "true", "demo-agents.concurrency", "2"));
        try (RunningCoordinator coordinator = CoordinatorApp.start(CoordinatorSettings.fromMap(overrides))) {
            HttpClient http = HttpClient.newHttpClient();
            HttpRequest agents = HttpRequest.newBuilder(URI.create(coordinator.httpUrl() + "/api/agents"))
                    .timeout(Duration.ofSeconds(20)).build();
            // the demo agents connect while the coordinator's consumers start: wait for all of them to listen
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200)).untilAsserted(() -> {
                HttpResponse<String> answer = http.send(agents, HttpResponse.BodyHandlers.ofString());
                assertThat(answer.statusCode()).isEqualTo(200);
                Map<String, Integer> consumers = new HashMap<>();
                for (JsonNode agent : JSON.readTree(answer.body()).path("agents")) {
                    consumers.put(agent.path("agent").asText(), agent.path("consumers").asInt(-1));
                }
                assertThat(consumers).as(answer.body()).containsAllEntriesOf(Map.of(
                        "interviewer", 2, "sentinel", 2, "architect", 2, "action", 2, "strategist", 2));
            });
        } finally {
            TestFolders.delete(data);
        }
    }
}
