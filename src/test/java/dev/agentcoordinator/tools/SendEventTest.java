package dev.agentcoordinator.tools;

import dev.agentcoordinator.engine.Json;
import dev.agentcoordinator.infra.FreePort;
import jakarta.jms.Connection;
import jakarta.jms.MessageConsumer;
import jakarta.jms.Session;
import jakarta.jms.TextMessage;
import org.apache.activemq.artemis.jms.client.ActiveMQConnectionFactory;
import org.apache.activemq.artemis.junit.EmbeddedActiveMQExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The command-line producer against a real (embedded, in-vm) Artemis broker. */
class SendEventTest {

    @RegisterExtension
    static final EmbeddedActiveMQExtension BROKER = new EmbeddedActiveMQExtension(42);

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    private int send(Map<String, String> env, String... args) {
        return SendEvent.run(args, env, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    @Test
    void theEventGoesToAgentEventsAndItsIdIsPrinted() throws Exception {
        assertThat(send(Map.of("COORDINATOR_BROKER_URL", BROKER.getVmURL()), "MARKET_UPDATE", "{\"sector\": \"cloud\"}")).isZero();

        String eventId = out.toString(StandardCharsets.UTF_8).trim();
        try (Connection connection = new ActiveMQConnectionFactory(BROKER.getVmURL()).createConnection();
             Session session = connection.createSession(false, Session.AUTO_ACKNOWLEDGE)) {
            connection.start();
            MessageConsumer consumer = session.createConsumer(session.createQueue("agent.events"));
            var event = Json.parse(((TextMessage) consumer.receive(10_000)).getText());
            assertThat(event.path("type").asText()).isEqualTo("MARKET_UPDATE");
            assertThat(event.path("event_id").asText()).isEqualTo(eventId);
            assertThat(event.at("/payload/sector").asText()).isEqualTo("cloud");
        }
    }

    @Test
    void aPayloadThatIsNotJsonIsRefusedNamingIt() {
        assertThat(send(Map.of(), "MARKET_UPDATE", "sector=cloud")).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8)).startsWith("not sent: the payload (second argument) is not valid JSON: ");
        assertThat(out.toString(StandardCharsets.UTF_8)).isEmpty();
    }

    @Test
    void aBrokerThatCannotBeReachedIsNamedWithoutItsPassword() {
        int port = FreePort.on("127.0.0.1");   // nothing listens on it
        String url = "tcp://user:secret@127.0.0.1:" + port;
        assertThat(send(Map.of(), "MARKET_UPDATE", "{}", url)).isEqualTo(1);
        assertThat(err.toString(StandardCharsets.UTF_8))
                .startsWith("not sent: the broker at tcp://user:****@127.0.0.1:" + port + " (COORDINATOR_BROKER_URL or the third argument) did not take it: ")
                .contains("AMQ219007")
                .doesNotContain("secret");
    }
}
