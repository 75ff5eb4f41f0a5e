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
}
