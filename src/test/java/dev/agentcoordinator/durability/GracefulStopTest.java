package dev.agentcoordinator.durability;

import dev.agentcoordinator.StartsChildProcesses;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * SIGTERM a coordinator while events and replies wait on its queues: it stops without a WARN or ERROR line (a
 * message its consumers took while stopping is handled, not rejected back to the broker, where each rejection
 * counted towards the queue's 10 deliveries before the dead-letter address), and what it left is finished by the
 * next coordinator, every execution completed.
 */
@StartsChildProcesses
class GracefulStopTest {
    private static final String WORKFLOW = "d_stop";

    private final OwnedInfrastructure infra = OwnedInfrastructure.shared();
    private final Audit audit = new Audit(infra);

    @Test
    void sigtermUnderLoadLogsNoRejectionAndLosesNothing() throws Exception {
        int executions = 400;
        try (RecordingAgents agents = new RecordingAgents(infra.connectionFactory())
                .agent("d-stop-work", 8, RecordingAgents.okAfter(2));
             EventSender sender = new EventSender(infra.connectionFactory())) {
            long before = completedSteps();
            List<String> events;
            String log;
            try (CoordinatorProcess first = CoordinatorProcess.start(infra, "stop-1")) {
                events = sender.events("D_STOP", executions);
                // stop with work on every queue: events not yet taken, replies arriving
                await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(20))
                        .until(() -> completedSteps() - before >= executions / 5);
                int startUp = first.logText().length();   // its start-up's lines (a WARN about look-alike agents) are not the stop's
                long stopping = System.nanoTime();
                int exit = first.terminate(Duration.ofSeconds(60));
                System.out.printf("GRACEFUL STOP: %d of %d executions completed when SIGTERM was sent; the JVM ended %d ms later%n",
                        audit.completed(WORKFLOW), executions, (System.nanoTime() - stopping) / 1_000_000);
                log = first.logText().substring(startUp);
                assertThat(log).as("exit %d; log:%n%s", exit, first.logTail()).contains("Agent Coordinator stopped");
            }
            List<String> warnings = log.lines()
                    .filter(line -> line.matches("^\\S+ (WARN|ERROR) .*"))
                    .toList();
            assertThat(warnings).as("WARN and ERROR lines of a stop under load").isEmpty();
            assertThat(log).doesNotContain("Rejecting received message");

            try (CoordinatorProcess second = CoordinatorProcess.start(infra, "stop-2")) {
                await().atMost(Duration.ofSeconds(180)).pollInterval(Duration.ofMillis(200))
                        .until(() -> audit.lost(events) == 0);
                assertThat(audit.executionsByStatus(WORKFLOW)).containsOnlyKeys("completed");
                assertThat(second.isAlive()).isTrue();
            }
            assertThat(infra.count("SELECT count(*) FROM ignored_replies i JOIN workflow_executions e ON e.id = i.execution_id"
                    + " WHERE e.workflow_id = ? AND i.reason NOT LIKE 'duplicate%'", WORKFLOW))
                    .as("replies ignored for another reason than a duplicate").isZero();
        }
    }

    private long completedSteps() {
        return infra.count("SELECT count(*) FROM workflow_step_executions s JOIN workflow_executions e "
                + "ON e.id = s.execution_id WHERE e.workflow_id = ? AND s.status = 'completed'", WORKFLOW);
    }
}
