package dev.agentcoordinator.agent;

import com.fasterxml.jackson.databind.JsonNode;
import org.apache.activemq.artemis.junit.EmbeddedActiveMQExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The services a builder started share its messenger: it stays open while any of them runs. Closing the latest one
 * closed it under the others.
 */
class MessengerOpenWhileAServiceRunsTest {

    @RegisterExtension
    static final EmbeddedActiveMQExtension BROKER = new EmbeddedActiveMQExtension(46);
    @RegisterExtension
    final AgentTestClients clients = new AgentTestClients(BROKER, "sending");

    @Test
    void aServiceKeepsSendingAfterALaterServiceOfItsBuilderCloses() throws Exception {
        AgentService.Builder builder = AgentService.builder(clients.connectionFactory(), clients.agent())
                .handle("noop", request -> AgentReply.ok(Map.of()));
        AgentService earlier = clients.start(builder);
        AgentService later = clients.start(builder);
        CompletableFuture<JsonNode> waiting = earlier.messenger().ask("listener", "UNANSWERED", Map.of(), Duration.ofMinutes(5));

        later.close();

        assertThat(earlier.messenger().tell("listener", "AFTER_THE_LATER_CLOSED", Map.of())).isNotBlank();
        assertThat(waiting).as("the earlier service's question, its response still to come").isNotDone();
        earlier.close();
        assertThatThrownBy(() -> waiting.get(10, TimeUnit.SECONDS)).cause().isInstanceOf(AgentMessageException.class)
                .hasMessageContaining("messenger of " + clients.agent() + " closed");
        assertThatThrownBy(() -> earlier.messenger().tell("listener", "AFTER_BOTH_CLOSED", Map.of()))
                .isInstanceOf(IllegalStateException.class).hasMessage("messenger of " + clients.agent() + " is closed");
    }
}
