package dev.agentcoordinator.api;

import dev.agentcoordinator.RunningCoordinator;
import dev.agentcoordinator.engine.Json;
import dev.agentcoordinator.infra.BrokerManagement;
import dev.agentcoordinator.infra.EmbeddedBroker;
import dev.agentcoordinator.infra.FreePort;
import dev.agentcoordinator.infra.Messaging;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static dev.agentcoordinator.api.BlockedSendsFixture.coordinatorOn;
import static dev.agentcoordinator.api.BlockedSendsFixture.get;
import static dev.agentcoordinator.api.BlockedSendsFixture.post;
import static dev.agentcoordinator.api.BlockedSendsFixture.status;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * While the broker blocks producers (its disk past max-disk-usage, or agent.events full under address-full-policy BLOCK;
 * here agent.events blocked through its address control, which withholds the producer credits the same way), POST
 * /api/events answers 503 within its bound, saying so, and readiness is DOWN. Before, the POST got no answer (the
 * Artemis client waits for credits without end; the HTTP server closed the connection after its idle timeout), held a
 * Vert.x worker thread all along, and readiness stayed UP.
 */
class EventsWhileTheBrokerBlocksSendsTest {
    private static final String NOTHING = "{\"type\": \"NOTHING_STARTS\", \"payload\": {}}";
    /** The send's bound (coordinator.health.timeout-ms) and the rest, with room for a busy machine. */
    private static final Duration ANSWERED = Duration.ofSeconds(8);

    @TempDir
    Path folder;

    @Test
    void postedEventsAnswer503AndReadinessIsDownWhileTheBrokerBlocksSends() throws Exception {
        EmbeddedBroker broker = new EmbeddedBroker(FreePort.on("127.0.0.1"), folder.resolve("broker"));
        String brokerUrl = broker.start();
        try (RunningCoordinator coordinator = coordinatorOn(brokerUrl, 1024, folder, Map.of());   // its producer's credits run out after a few events
             BrokerManagement management = BrokerManagement.open(Messaging.connectionFactory(brokerUrl, "", ""), 5000)) {
            String api = coordinator.httpUrl();
            assertThat(post(api + "/api/events", NOTHING).statusCode()).isEqualTo(202);
            await().atMost(Duration.ofSeconds(30)).until(() -> status(api + "/observe/health/ready") == 200);

            assertThat(management.invoke("address.agent.events", "block")).hasValueSatisfying(a -> assertThat(a.succeeded()).isTrue());
            List<String> accepted = new ArrayList<>();
            // each call is answered in time (before, one waited until the client gave up); a few more events may go
            // through on the credits the producer already held
            HttpResponse<String> refused = postUntilRefused(api, accepted);
            assertThat(refused.statusCode()).as(refused.body()).isEqualTo(503);
            assertThat(refused.headers().firstValue("Retry-After")).hasValue("5");
            assertThat(Json.parse(refused.body()).path("error").asText()).startsWith("the broker blocks sends: ").endsWith("not sent");
            String notSent = Json.parse(refused.body()).path("event_id").asText();
            assertThat(notSent).isNotEmpty();

            // readiness DOWN, saying why
            await().atMost(Duration.ofSeconds(30)).until(() -> status(api + "/observe/health/ready") == 503);
            assertThat(get(api + "/observe/health?exposureLevel=full").body()).contains("blocks sends: it ");
            // the API's other calls still answer: the refused sends hold no HTTP thread
            assertThat(status(api + "/api/events?limit=1")).isEqualTo(200);

            assertThat(management.invoke("address.agent.events", "unblock")).hasValueSatisfying(a -> assertThat(a.succeeded()).isTrue());
            await().atMost(Duration.ofSeconds(30)).until(() -> status(api + "/observe/health/ready") == 200);
            // posted again with its event_id, the refused event is taken; every event answered 202 arrived
            assertThat(post(api + "/api/events", "{\"type\": \"NOTHING_STARTS\", \"event_id\": \"" + notSent + "\", \"payload\": {}}")
                    .statusCode()).isEqualTo(202);
            accepted.add(notSent);
            for (String eventId : accepted) {
                await().atMost(Duration.ofSeconds(30)).until(() -> status(api + "/api/events/" + eventId) == 200);
            }
        } finally {
            broker.close();
        }
    }

    /**
     * agent.events full under address-full-policy BLOCK (its max-size-bytes tiny, its consumer stopped): the broker
     * withholds credits as it does for a disk past max-disk-usage, and the client waits for them. Before, the POST got
     * no answer (the HTTP client gave up after 15 s).
     */
    @Test
    void postedEventsAnswer503WhileAgentEventsIsFullUnderBlock() throws Exception {
        EmbeddedBroker broker = new EmbeddedBroker(FreePort.on("127.0.0.1"), folder.resolve("broker"));
        String brokerUrl = broker.start();
        try (RunningCoordinator coordinator = coordinatorOn(brokerUrl, 1024, folder, Map.of());
             BrokerManagement management = BrokerManagement.open(Messaging.connectionFactory(brokerUrl, "", ""), 5000)) {
            String api = coordinator.httpUrl();
            coordinator.camelContext().getRouteController().stopRoute("coordinator.events");
            assertThat(management.invoke("broker", "addAddressSettings", "agent.events",
                    "{\"maxSizeBytes\": 2048, \"pageSizeBytes\": 1024, \"addressFullMessagePolicy\": \"BLOCK\"}"))
                    .hasValueSatisfying(a -> assertThat(a.succeeded()).as(String.valueOf(a.result())).isTrue());
            List<String> accepted = new ArrayList<>();
            HttpResponse<String> refused = postUntilRefused(api, accepted);
            assertThat(refused.statusCode()).as(refused.body()).isEqualTo(503);
            assertThat(Json.parse(refused.body()).path("error").asText()).startsWith("the broker blocks sends: ").endsWith("not sent");
            await().atMost(Duration.ofSeconds(30)).until(() -> status(api + "/observe/health/ready") == 503);

            coordinator.camelContext().getRouteController().startRoute("coordinator.events");
            for (String eventId : accepted) {
                await().atMost(Duration.ofSeconds(30)).until(() -> status(api + "/api/events/" + eventId) == 200);
            }
        } finally {
            broker.close();
        }
    }

    /** Posts events, each answered within {@link #ANSWERED}, until one is not accepted: that answer; the accepted ones' ids. */
    private static HttpResponse<String> postUntilRefused(String api, List<String> accepted) {
        List<HttpResponse<String>> refused = new ArrayList<>();
        await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(10)).until(() -> {
            long asked = System.nanoTime();
            HttpResponse<String> answer = post(api + "/api/events", NOTHING);
            assertThat(Duration.ofNanos(System.nanoTime() - asked)).isLessThan(ANSWERED);
            if (answer.statusCode() == 202) {
                accepted.add(Json.parse(answer.body()).path("event_id").asText());
                return false;
            }
            refused.add(answer);
            return true;
        });
        return refused.get(0);
    }
}
