package dev.agentcoordinator.agent;

import com.fasterxml.jackson.databind.JsonNode;
import jakarta.jms.Connection;
import jakarta.jms.ConnectionFactory;
import jakarta.jms.JMSContext;
import jakarta.jms.JMSException;
import jakarta.jms.JMSRuntimeException;
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
 * closed it under the others, and a start() that failed kept it open after every service had closed.
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

    @Test
    void aStartThatFailsLeavesTheMessengerToBeClosedWithTheRunningService() {
        RefusingConnectionFactory factory = new RefusingConnectionFactory(clients.connectionFactory());
        AgentService.Builder builder = AgentService.builder(factory, clients.agent()).handle("noop", request -> AgentReply.ok(Map.of()));
        AgentService running = clients.start(builder);
        running.messenger().tell("listener", "CONNECTS", Map.of());

        factory.refusing = true;   // the broker unreachable for the next start's consumers
        assertThatThrownBy(builder::start).isInstanceOf(JMSRuntimeException.class).hasMessageContaining("cannot consume");
        factory.refusing = false;
        running.close();

        assertThatThrownBy(() -> running.messenger().tell("listener", "AFTER_THE_SERVICE_CLOSED", Map.of()))
                .isInstanceOf(IllegalStateException.class).hasMessage("messenger of " + clients.agent() + " is closed");
    }

    /**
     * The builder's messenger belongs to the services it started: a user's close() of it while one runs closed it under
     * all of them (their tell/ask then failed "messenger of X is closed"). It leaves it open for them, and it closes with
     * the last of them; once no service runs, it closes as any messenger does.
     */
    @Test
    void aUsersCloseOfTheMessengerWhileAServiceOfItsBuilderRunsLeavesItOpenForThem() throws Exception {
        AgentService.Builder builder = AgentService.builder(clients.connectionFactory(), clients.agent())
                .handle("noop", request -> AgentReply.ok(Map.of()));
        AgentService first = clients.start(builder);
        AgentService second = clients.start(builder);
        CompletableFuture<JsonNode> waiting = second.messenger().ask("listener", "UNANSWERED", Map.of(), Duration.ofMinutes(5));

        builder.messenger().close();
        first.messenger().close();

        assertThat(second.messenger().tell("listener", "AFTER_THE_USERS_CLOSE", Map.of())).isNotBlank();
        assertThat(waiting).as("a question on the connection the services use").isNotDone();
        first.close();
        assertThat(second.messenger().tell("listener", "AFTER_THE_FIRST_CLOSED", Map.of())).isNotBlank();
        second.close();
        assertThatThrownBy(() -> waiting.get(10, TimeUnit.SECONDS)).cause().isInstanceOf(AgentMessageException.class)
                .hasMessageContaining("messenger of " + clients.agent() + " closed");
        assertThatThrownBy(() -> builder.messenger().tell("listener", "AFTER_ALL_CLOSED", Map.of()))
                .isInstanceOf(IllegalStateException.class).hasMessage("messenger of " + clients.agent() + " is closed");

        builder.messenger().close();   // none runs: as any close, again
    }

    /**
     * Resources of a try close in reverse: the messenger declared after its service closes first. Its close threw while the
     * service ran (IllegalStateException out of the try); it now leaves the messenger to the service's close.
     */
    @Test
    void aTryWithResourcesClosesTheMessengerDeclaredAfterItsService() throws Exception {
        AgentService.Builder builder = AgentService.builder(clients.connectionFactory(), clients.agent())
                .handle("noop", request -> AgentReply.ok(Map.of()));
        AgentService closedService;
        CompletableFuture<JsonNode> waiting;
        try (AgentService service = clients.start(builder);
             AgentMessenger messenger = service.messenger()) {
            waiting = messenger.ask("listener", "UNANSWERED", Map.of(), Duration.ofMinutes(5));
            closedService = service;
        }

        assertClosed(closedService, waiting);
    }

    /** The messenger declared before its service closes after it: the service closed it, and its own close does nothing. */
    @Test
    void aTryWithResourcesClosesTheMessengerDeclaredBeforeItsService() throws Exception {
        AgentService.Builder builder = AgentService.builder(clients.connectionFactory(), clients.agent())
                .handle("noop", request -> AgentReply.ok(Map.of()));
        AgentService closedService;
        CompletableFuture<JsonNode> waiting;
        try (AgentMessenger messenger = builder.messenger();
             AgentService service = clients.start(builder)) {
            waiting = messenger.ask("listener", "UNANSWERED", Map.of(), Duration.ofMinutes(5));
            closedService = service;
        }

        assertClosed(closedService, waiting);
    }

    private void assertClosed(AgentService service, CompletableFuture<JsonNode> waiting) {
        assertThat(service.isRunning()).isFalse();
        assertThatThrownBy(() -> waiting.get(10, TimeUnit.SECONDS)).as("the question waiting when the try ended")
                .cause().isInstanceOf(AgentMessageException.class).hasMessageContaining("messenger of " + clients.agent() + " closed");
        assertThatThrownBy(() -> service.messenger().tell("listener", "AFTER_THE_TRY", Map.of()))
                .isInstanceOf(IllegalStateException.class).hasMessage("messenger of " + clients.agent() + " is closed");
    }

    /** Before its builder started a service, the messenger (a handler's, sending already) is the user's to close. */
    @Test
    void theMessengerOfABuilderThatStartedNoServiceClosesAtTheUsersClose() {
        AgentService.Builder builder = AgentService.builder(clients.connectionFactory(), clients.agent())
                .handle("noop", request -> AgentReply.ok(Map.of()));
        AgentMessenger messenger = builder.messenger();
        messenger.tell("listener", "BEFORE_ANY_START", Map.of());

        messenger.close();

        assertThatThrownBy(() -> messenger.tell("listener", "AFTER_THE_CLOSE", Map.of()))
                .isInstanceOf(IllegalStateException.class).hasMessage("messenger of " + clients.agent() + " is closed");
        AgentService started = clients.start(builder);   // opens it again, as a start after the services closed does
        assertThat(started.messenger().tell("listener", "AFTER_THE_START", Map.of())).isNotBlank();
    }

    /** Connects through the test's factory until told to refuse, as a broker that went away would. */
    private static final class RefusingConnectionFactory implements ConnectionFactory {
        private final ConnectionFactory connectingTo;
        volatile boolean refusing;

        RefusingConnectionFactory(ConnectionFactory connectingTo) {
            this.connectingTo = connectingTo;
        }

        @Override
        public Connection createConnection() throws JMSException {
            refuseIfTold();
            return connectingTo.createConnection();
        }

        @Override
        public Connection createConnection(String userName, String password) throws JMSException {
            refuseIfTold();
            return connectingTo.createConnection(userName, password);
        }

        @Override
        public JMSContext createContext() {
            throw new UnsupportedOperationException("the SDK uses connections");
        }

        @Override
        public JMSContext createContext(String userName, String password) {
            throw new UnsupportedOperationException("the SDK uses connections");
        }

        @Override
        public JMSContext createContext(String userName, String password, int sessionMode) {
            throw new UnsupportedOperationException("the SDK uses connections");
        }

        @Override
        public JMSContext createContext(int sessionMode) {
            throw new UnsupportedOperationException("the SDK uses connections");
        }

        private void refuseIfTold() throws JMSException {
            if (refusing) {
                throw new JMSException("broker unreachable (refused by the test)");
            }
        }
    }
}
