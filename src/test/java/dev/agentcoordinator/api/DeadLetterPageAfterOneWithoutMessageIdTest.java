package dev.agentcoordinator.api;

import com.fasterxml.jackson.databind.JsonNode;
import dev.agentcoordinator.engine.DeadLetteredEvents;
import dev.agentcoordinator.engine.Endpoints;
import dev.agentcoordinator.engine.Json;
import dev.agentcoordinator.engine.TestCoordinator;
import dev.agentcoordinator.infra.Messaging;
import jakarta.jms.Connection;
import jakarta.jms.MessageConsumer;
import jakarta.jms.MessageProducer;
import jakarta.jms.Session;
import jakarta.jms.TextMessage;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * GET /api/dead-letters pages on past a dead letter that has no JMSMessageID (one sent straight to agent.events.DLQ over
 * STOMP or AMQP, as an operator's script did): a page that began after it, or ended on it, answered 500 (a
 * NullPointerException comparing its id with the cursor's).
 */
class DeadLetterPageAfterOneWithoutMessageIdTest {

    @Test
    void thePageAfterADeadLetterWithoutMessageIdIsListed() throws Exception {
        String eventId = "dl-no-id-" + UUID.randomUUID();
        try (Connection connection = Messaging.connectionFactory(TestCoordinator.shared().brokerUrl(), null, null).createConnection()) {
            Session session = connection.createSession(false, Session.AUTO_ACKNOWLEDGE);
            MessageProducer producer = session.createProducer(session.createQueue(Endpoints.DEAD_LETTER_QUEUE));
            producer.setDisableMessageID(true);   // as a STOMP client sends, with no message id
            TextMessage withoutId = session.createTextMessage("{\"type\": \"F_NO_ID\", \"event_id\": \"" + eventId + "\"}");
            withoutId.setStringProperty(DeadLetteredEvents.EVENT_ID_PROPERTY, eventId);
            producer.send(withoutId);
            long sentAt = withoutId.getJMSTimestamp();
            await().pollInterval(Duration.ofMillis(5)).until(() -> System.currentTimeMillis() > sentAt);
            producer.setDisableMessageID(false);
            TextMessage withId = session.createTextMessage("{\"type\": \"F_NO_ID\", \"event_id\": \"" + eventId + "\", \"n\": 2}");
            withId.setStringProperty(DeadLetteredEvents.EVENT_ID_PROPERTY, eventId);
            producer.send(withId);
            try {
                JsonNode first = Json.parse(get("/api/dead-letters?limit=1&event_id=" + eventId).body());
                assertThat(first.at("/dead_letters/0/message_id").isNull()).isTrue();
                assertThat(first.path("more").asBoolean()).isTrue();

                HttpResponse<String> second = get("/api/dead-letters?limit=1&event_id=" + eventId
                        + "&after=" + URLEncoder.encode(first.path("next").asText(), StandardCharsets.UTF_8));

                assertThat(second.statusCode()).as(second.body()).isEqualTo(200);
                assertThat(Json.parse(second.body()).at("/dead_letters/0/message_id").asText()).isEqualTo(withId.getJMSMessageID());
            } finally {
                // not left on the shared DLQ, whose other listings page through it
                connection.start();
                try (MessageConsumer consumer = session.createConsumer(session.createQueue(Endpoints.DEAD_LETTER_QUEUE),
                        DeadLetteredEvents.EVENT_ID_PROPERTY + " = '" + eventId + "'")) {
                    while (consumer.receive(2_000) != null) {
                        // taken off
                    }
                }
            }
        }
    }

    private static HttpResponse<String> get(String path) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(TestCoordinator.shared().httpUrl() + path))
                .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
    }
}
