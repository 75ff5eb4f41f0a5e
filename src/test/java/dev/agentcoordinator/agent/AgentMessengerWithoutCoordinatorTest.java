package dev.agentcoordinator.agent;

import dev.agentcoordinator.infra.EmbeddedBroker;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** A question whose coordinator never answers (none runs on this broker): the SDK's own bound ends the wait. */
class AgentMessengerWithoutCoordinatorTest {
    @TempDir
    Path dataDir;

    @Test
    void aQuestionFailsAsTimedOutWhenNoCoordinatorNoticeComes() throws Exception {
        try (EmbeddedBroker broker = new EmbeddedBroker(0, dataDir);
             AgentMessenger messenger = AgentMessenger.connect(AgentService.artemisConnectionFactory(broker.start()), "lonely-asker")) {
            // its timeout plus the 5 s grace in which the coordinator's notice would come
            assertThatThrownBy(() -> messenger.ask("nobody", "ANYONE_THERE", Map.of(), Duration.ofMillis(100)).get(20, TimeUnit.SECONDS))
                    .cause().isInstanceOf(AgentMessageTimeoutException.class)
                    .hasMessageContaining("within 5100 ms, and no timeout notice from the coordinator");
        }
    }

    /** After a broker restart the messenger connects again: it kept its dead connection and failed every message. */
    @Test
    void aMessengerSendsAgainAfterTheBrokerRestarts() throws Exception {
        EmbeddedBroker broker = new EmbeddedBroker(dev.agentcoordinator.infra.FreePort.on(EmbeddedBroker.HOST), dataDir);
        String url = broker.start();
        int port = java.net.URI.create(url).getPort();
        try (AgentMessenger messenger = AgentMessenger.connect(AgentService.artemisConnectionFactory(url), "restarting-teller")) {
            messenger.tell("listener", "BEFORE", Map.of());
            java.util.concurrent.CompletableFuture<com.fasterxml.jackson.databind.JsonNode> waiting =
                    messenger.ask("listener", "UNANSWERED", Map.of(), Duration.ofMinutes(5));
            broker.close();
            broker = new EmbeddedBroker(port, dataDir);
            broker.start();

            // its response would have come to a temporary queue that went with the connection
            assertThatThrownBy(() -> waiting.get(30, TimeUnit.SECONDS)).cause().isInstanceOf(AgentMessageException.class)
                    .hasMessageContaining("connection of the messenger of restarting-teller failed");
            String sent = org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30)).ignoreExceptions()
                    .until(() -> messenger.tell("listener", "AFTER", Map.of()), java.util.Objects::nonNull);
            try (jakarta.jms.Connection connection = AgentService.artemisConnectionFactory(url).createConnection()) {
                connection.start();
                jakarta.jms.Session session = connection.createSession(false, jakarta.jms.Session.AUTO_ACKNOWLEDGE);
                jakarta.jms.MessageConsumer consumer = session.createConsumer(session.createQueue(AgentMessageWire.QUEUE),
                        "JMSCorrelationID = '" + sent + "'");
                org.assertj.core.api.Assertions.assertThat(consumer.receive(10_000)).isNotNull();
            }
        } finally {
            broker.close();
        }
    }

    /** The first service's close closed the messenger both share: every message of the second one was refused. */
    @Test
    void aServiceStartedAgainFromItsBuilderSendsWithTheBuildersMessenger() throws Exception {
        try (EmbeddedBroker broker = new EmbeddedBroker(0, dataDir)) {
            AgentService.Builder builder = AgentService.builder(AgentService.artemisConnectionFactory(broker.start()), "restarted-teller")
                    .handle("noop", request -> AgentReply.ok(Map.of()));
            AgentMessenger messenger = builder.messenger();
            AgentService first = builder.start();
            first.close();
            AgentService again = builder.start();
            try {
                first.close();   // again, late (a shutdown hook as well as try-with-resources): the new one's messenger stays open
                org.assertj.core.api.Assertions.assertThat(messenger.tell("listener", "AFTER_RESTART", Map.of())).isNotBlank();
            } finally {
                again.close();
            }
        }
    }
}
