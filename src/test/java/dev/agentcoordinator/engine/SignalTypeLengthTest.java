package dev.agentcoordinator.engine;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import static dev.agentcoordinator.engine.ScriptedAgents.Reply;
import static dev.agentcoordinator.engine.TestCoordinator.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Spec, Shared Context Pattern: a reply's signals. A signal_type longer than execution_signals.signal_type
 * (varchar(200)) made the reply's transaction fail in PostgreSQL ("value too long for type character varying(200)"):
 * the reply was redelivered ten times (an ERROR each), went to DLA, and the step waited for its timeout, where a
 * malformed signal is dropped with a WARN (docs/agent-protocol.md, "The reply").
 */
class SignalTypeLengthTest {
    private static final String LONG_TYPE = "S".repeat(201);
    private static ScriptedAgents agents;

    @BeforeAll
    static void agents() throws Exception {
        agents = new ScriptedAgents(shared().connectionFactory()).agent("spec-long-signal-agent", r -> switch (r.action()) {
            case "signal" -> List.of(new Reply(0, Json.write(Map.of("status", "ok", "output", Map.of("done", true),
                    "signals", List.of(Map.of("signal_type", LONG_TYPE, "data", 1), Map.of("signal_type", "KEPT", "data", 2)))), null));
            default -> List.of(Reply.ok(Map.of("seen", r.input())));
        });
    }

    @AfterAll
    static void stop() throws Exception {
        agents.close();
    }

    @Test
    void aReplyWithASignalTypeTooLongToStoreCompletesItsStep() {
        String eventId = sendEvent("T_SPEC_LONG_SIGNAL", "{}");
        await().atMost(Duration.ofSeconds(15)).until(() -> {
            String execution = executionOf(eventId);
            return execution != null && "completed".equals(executionStatus(execution));
        });
        String executionId = executionOf(eventId);
        assertThat(query("SELECT signal_type FROM execution_signals WHERE execution_id = ?", executionId))
                .extracting(row -> row.get("signal_type")).containsExactly("KEPT");
    }

    @Test
    void theOutcomeDropsItAndSaysSo() {
        StepOutcome outcome = StepOutcome.of(new dev.agentcoordinator.definition.WorkflowStep("a", null, null, null, null, null,
                        null, null, null, null, null),
                Json.write(Map.of("status", "ok", "output", Map.of(), "signals", List.of(Map.of("signal_type", LONG_TYPE)))), 1, 1, 0, "{}");
        assertThat(outcome.transition()).isEqualTo(StepOutcome.Transition.COMPLETE);
        assertThat(outcome.signalsJson()).isEqualTo("[]");
        assertThat(outcome.ignoredFields()).isNotNull();
        assertThat(outcome.ignoredFields().text()).contains("signals[0]").contains("201 characters");
    }
}
