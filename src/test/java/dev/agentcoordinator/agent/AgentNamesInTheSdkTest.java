package dev.agentcoordinator.agent;

import org.apache.activemq.artemis.jms.client.ActiveMQConnectionFactory;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The SDK takes only agent names the coordinator takes: a service named otherwise would start, and every message it
 * sends would be refused (a notice's refusal unseen: it has no reply-to). Nothing here connects.
 */
class AgentNamesInTheSdkTest {
    private final ActiveMQConnectionFactory nowhere = new ActiveMQConnectionFactory("tcp://127.0.0.1:1");

    @Test
    void aServiceOrMessengerNamedAsNoAgentIsRefusedAtOnce() {
        assertThatThrownBy(() -> AgentService.builder(nowhere, "Interviewer"))
                .hasMessage("agent name \"Interviewer\" is not an agent name: lower-case letters, digits, _ and -, starting with a letter, at most 100 characters");
        assertThatThrownBy(() -> AgentService.builder(nowhere, "events.DLQ")).hasMessageContaining("is not an agent name");
        assertThatThrownBy(() -> AgentService.builder(nowhere, "messages"))
                .hasMessage("agent name \"messages\" is reserved: agent.messages is the coordinator's queue");
        assertThatThrownBy(() -> AgentService.builder(nowhere, " ")).hasMessage("agent name must not be blank");
        assertThatThrownBy(() -> new AgentMessenger(nowhere, "x".repeat(101))).hasMessageContaining("at most 100 characters");
        assertThatCode(() -> AgentService.builder(nowhere, "strategist_2-b")).doesNotThrowAnyException();
    }

    @Test
    void aMessageToANameNoAgentHasIsRefusedBeforeItLeaves() {
        AgentMessenger messenger = new AgentMessenger(nowhere, "architect");
        assertThatThrownBy(() -> messenger.tell("Strategist", "NOTICE", Map.of()))
                .hasMessageStartingWith("recipient \"Strategist\" is not an agent name");
        assertThat(messenger.ask("events", "QUERY", Map.of())).failsWithin(java.time.Duration.ZERO)
                .withThrowableOfType(java.util.concurrent.ExecutionException.class)
                .havingCause().isInstanceOf(AgentMessageException.class)
                .withMessage("recipient \"events\" is reserved: agent.events is the coordinator's queue");
    }
}
