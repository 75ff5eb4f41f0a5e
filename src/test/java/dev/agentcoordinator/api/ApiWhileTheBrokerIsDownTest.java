package dev.agentcoordinator.api;

import dev.agentcoordinator.CoordinatorApp;
import dev.agentcoordinator.DatabaseTemplate;
import dev.agentcoordinator.RunningCoordinator;
import dev.agentcoordinator.config.CoordinatorSettings;
import dev.agentcoordinator.infra.EmbeddedBroker;
import dev.agentcoordinator.infra.FreePort;
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
import static org.awaitility.Awaitility.await;

/**
 * While the broker is known to be unreachable (BrokerOutageWatch), the API's calls that send to it answer 503 at once,
 * and GET /api/agents answers without the queues' counts. Before, a POST /api/events waited for the JMS client's
 * reconnection: answered after 10 to 73 s, or not at all once the HTTP server closed the idle connection, with its
 * event delivered later or never; GET /api/agents took 40 s and more.
 */
class ApiWhileTheBrokerIsDownTest {
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private static final Duration AT_ONCE = Duration.ofSeconds(3);

    @TempDir
    Path folder;

    @Test
    void callsThatSendToTheBrokerAnswer503AtOnceWhileItIsDown() throws Exception {
        int brokerPort = FreePort.on("127.0.0.1");
        EmbeddedBroker broker = new EmbeddedBroker(brokerPort, folder.resolve("broker"));
        String brokerUrl = broker.start();
        try (RunningCoordinator coordinator = CoordinatorApp.start(CoordinatorSettings.fromMap(Map.of(
                "broker.url", brokerUrl, "db.url", "", "db.embedded.port", "0", "http.port", "0",
                "data.dir", DatabaseTemplate.seeded(folder.resolve("data")).toString(),
                "workflows.dir", "routes/workflows", "demo-agents.enabled", "false",
                // the durability tests' sweeps: the stall sweep that sends the retried execution on runs every 5 s, not 10 s
                "supervisor.period-ms", "100")))) {
            String api = coordinator.httpUrl();
            assertThat(post(api + "/api/events", "{\"type\": \"NOTHING_STARTS\", \"payload\": {}}").statusCode()).isEqualTo(202);
            // two executions whose agent is not there: one cancelled now (to be retried in the outage), one left running
            String cancelled = executionOf(api, post(api + "/api/events", INTERVIEW).body());
            String running = executionOf(api, post(api + "/api/events", INTERVIEW).body());
            assertThat(post(api + "/api/executions/" + cancelled + "/cancel", "").statusCode()).isEqualTo(200);
            java.time.Instant[] retried = new java.time.Instant[1];
            broker.close();
            try {
                // once the outage is known (a second or so), the answer comes at once; before, the client's wait ran out
                await().atMost(Duration.ofSeconds(20)).ignoreExceptions().until(() ->
                        post(api + "/api/events", "{\"type\": \"NOTHING_STARTS\", \"payload\": {}}").statusCode() == 503);
                for (String[] call : new String[][] {{"/api/events", "{\"type\": \"NOTHING_STARTS\", \"payload\": {}}"},
                        {"/api/messages", "{\"from\": \"a-sender\", \"to\": \"a-receiver\", \"type\": \"HELLO\"}"},
                        {"/api/executions/any/steps/any/reply", "{\"status\": \"ok\", \"output\": {}}"}}) {
                    long asked = System.nanoTime();
                    HttpResponse<String> refused = post(api + call[0], call[1]);
                    assertThat(Duration.ofNanos(System.nanoTime() - asked)).as(call[0]).isLessThan(AT_ONCE);
                    assertThat(refused.statusCode()).as(call[0] + ": " + refused.body()).isEqualTo(503);
                    assertThat(refused.headers().firstValue("Retry-After")).hasValue("5");
                    assertThat(refused.body()).as(call[0]).contains("the broker cannot be reached");
                }
                // a cancel and a retry are committed and answered at once: what they send follows once the broker is back
                // (the sweeps); before, each waited 40 s and more for the client's reconnection
                for (String[] call : new String[][] {{running, "cancel", "200"}, {cancelled, "retry", "202"}}) {
                    retried[0] = java.time.Instant.now();
                    long asked = System.nanoTime();
                    HttpResponse<String> answered = post(api + "/api/executions/" + call[0] + "/" + call[1], "");
                    assertThat(Duration.ofNanos(System.nanoTime() - asked)).as(call[1]).isLessThan(AT_ONCE);
                    assertThat(answered.statusCode()).as(call[1] + ": " + answered.body()).isEqualTo(Integer.parseInt(call[2]));
                }
                long asked = System.nanoTime();
                HttpResponse<String> agents = HTTP.send(HttpRequest.newBuilder(URI.create(api + "/api/agents"))
                        .timeout(AT_ONCE).build(), HttpResponse.BodyHandlers.ofString());
                assertThat(Duration.ofNanos(System.nanoTime() - asked)).isLessThan(AT_ONCE);
                assertThat(agents.statusCode()).isEqualTo(200);
                assertThat(agents.body()).contains("the broker cannot be reached: its queues' counts are not known now");
            } finally {
                broker = new EmbeddedBroker(brokerPort, folder.resolve("broker"));   // back, so that the coordinator stops at once
                broker.start();
            }
            // readiness is not UP while the API still refuses sends (the coordinator's own connections fail over a few
            // seconds after a fresh probe connection works: an operator saw ready 200 for about 6 s while every POST
            // /api/events answered 503); sampled every 200 ms until POST /api/events is taken again
            java.util.List<String> lies = new java.util.ArrayList<>();
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200)).ignoreExceptions().until(() -> {
                int ready = HTTP.send(HttpRequest.newBuilder(URI.create(api + "/observe/health/ready")).timeout(Duration.ofSeconds(5))
                        .build(), HttpResponse.BodyHandlers.discarding()).statusCode();
                int event = post(api + "/api/events", NOTHING).statusCode();
                if (ready == 200 && event == 503) {
                    lies.add(java.time.Instant.now() + ": ready 200, POST /api/events 503");
                }
                return event == 202;
            });
            assertThat(lies).as("readiness UP while the API refused sends").isEmpty();
            // the retried execution goes on once the broker is back (the stall sweep): a step of it is sent to its agent
            // again (the retry's answer set the execution running; its steps were left pending)
            await().atMost(Duration.ofSeconds(90)).until(() -> {
                com.fasterxml.jackson.databind.JsonNode steps = dev.agentcoordinator.engine.Json.parse(
                        get(api + "/api/executions/" + cancelled + "?outputs=false")).path("steps");
                for (com.fasterxml.jackson.databind.JsonNode step : steps) {
                    if ("running".equals(step.path("status").asText())
                            && java.time.Instant.parse(step.path("started_at").asText()).isAfter(retried[0])) {
                        return true;
                    }
                }
                return false;
            });
        } finally {
            broker.close();
        }
    }

    private static final String NOTHING = "{\"type\": \"NOTHING_STARTS\", \"payload\": {}}";
    private static final String INTERVIEW = "{\"type\": \"INTERVIEW_COMPLETED\", \"payload\": {\"interview_id\": \"i-1\", \"user_id\": \"u-1\"}}";

    /** The execution the event of this POST /api/events answer started, once a coordinator took it. */
    private static String executionOf(String api, String accepted) {
        String eventId = dev.agentcoordinator.engine.Json.parse(accepted).path("event_id").asText();
        String[] execution = new String[1];
        await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> {
            execution[0] = dev.agentcoordinator.engine.Json.parse(get(api + "/api/events/" + eventId)).path("execution_id").asText(null);
            return execution[0] != null;
        });
        return execution[0];
    }

    private static String get(String url) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(5)).build(),
                HttpResponse.BodyHandlers.ofString()).body();
    }

    private static HttpResponse<String> post(String url, String body) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(url)).header("Content-Type", "application/json").timeout(Duration.ofSeconds(5))
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }
}
