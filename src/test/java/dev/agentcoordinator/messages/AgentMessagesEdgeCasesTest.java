package dev.agentcoordinator.messages;

import dev.agentcoordinator.agent.AgentMessageException;
import dev.agentcoordinator.agent.AgentMessageTimeoutException;
import dev.agentcoordinator.agent.AgentService;
import jakarta.jms.ConnectionFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static dev.agentcoordinator.engine.TestCoordinator.query;
import static dev.agentcoordinator.engine.TestCoordinator.shared;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/** Agent-to-agent messages at their edges (a type the coordinator refuses, a question its sender gave up on), through a real coordinator. */
class AgentMessagesEdgeCasesTest {
    private static AgentService sender;

    @BeforeAll
    static void agents() {
        ConnectionFactory cf = AgentService.artemisConnectionFactory(shared().brokerUrl());
        sender = AgentService.builder(cf, "rv-sender").onMessage("UNUSED", message -> null).start();
    }

    @AfterAll
    static void stop() {
        sender.close();
    }

    /**
     * tell() checks the recipient's name locally because "a notice has no reply-to" and a refusal would go unseen, but not
     * the type: a type the coordinator refuses (blank, longer than 200 characters) is accepted by tell(), which returns a
     * message id, and the notice is dropped by the coordinator with nobody told. ask() with the same type is rejected.
     */
    @Test
    void aNoticeTheCoordinatorWouldRefuseIsRefusedByTell() {
        String tooLong = "T".repeat(201);
        assertThatThrownBy(() -> sender.messenger().ask("rv-recipient", tooLong, Map.of(), Duration.ofSeconds(5)).get(20, TimeUnit.SECONDS))
                .isInstanceOf(ExecutionException.class).cause().isInstanceOf(AgentMessageException.class)
                .hasMessageContaining("type is longer than 200 characters");
        assertThatThrownBy(() -> sender.messenger().tell("rv-recipient", tooLong, Map.of()))
                .as("tell() refuses what the coordinator would drop unseen").isInstanceOf(IllegalArgumentException.class);
    }

    /** A notice of a type its recipient has no handler for is dropped with a WARN line: its error had no one to go to. */
    @Test
    void aNoticeOfATypeWithoutHandlerIsToldWhereItIsDropped() {
        try (dev.agentcoordinator.engine.CapturedLog log = dev.agentcoordinator.engine.CapturedLog.of(
                "dev.agentcoordinator.agent.MessageDispatcher")) {
            String id = sender.messenger().tell("rv-sender", "NO_HANDLER_HERE", Map.of());
            await().atMost(Duration.ofSeconds(20)).until(() -> log.lines().stream().anyMatch(line -> line.startsWith("WARN")
                    && line.contains("notice " + id + " (NO_HANDLER_HERE) from rv-sender dropped: no handler for its type")));
        }
    }

    /** Checked: a question nobody took before its timeout expires on the recipient's queue (docs/agent-protocol.md). */
    @Test
    void aQuestionItsSenderGaveUpOnIsNotHandedToARecipientThatStartsLater() throws Exception {
        assertThatThrownBy(() -> sender.messenger().ask("rv-late", "LATE", Map.of(), Duration.ofMillis(500)).get(20, TimeUnit.SECONDS))
                .cause().isInstanceOf(AgentMessageTimeoutException.class);
        assertThat(query("SELECT status FROM agent_messages WHERE to_agent = 'rv-late'").get(0).get("status")).isEqualTo("timed_out");
        AtomicInteger handled = new AtomicInteger();
        AgentService late = AgentService.builder(AgentService.artemisConnectionFactory(shared().brokerUrl()), "rv-late")
                .onMessage("LATE", message -> Map.of("n", handled.incrementAndGet())).start();
        try {
            await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(5)).until(() -> handled.get() == 0);
        } finally {
            late.close();
        }
    }
}
