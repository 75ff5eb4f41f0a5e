package dev.agentcoordinator.durability;

import dev.agentcoordinator.StartsChildProcesses;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.Tag;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Case 2: two coordinator JVMs share one broker and one database (competing consumers, SKIP LOCKED
 * sweeps); one is killed mid-run and the survivor finishes every execution. The split of the work
 * comes from workflow_step_executions.handled_by (coordinator.instance-id).
 */
@Tag("durability")
@EnabledIfSystemProperty(named = "durability.heavy", matches = "true")
@StartsChildProcesses
class TwoCoordinatorsTest {
    private static final String WORKFLOW = "d_split";
    private static final int EXECUTIONS = 100;

    private final OwnedInfrastructure infra = OwnedInfrastructure.shared();
    private final Audit audit = new Audit(infra);

    @Test
    void theSurvivorFinishesEveryExecution() throws Exception {
        try (RecordingAgents agents = new RecordingAgents(infra.connectionFactory())
                .agent("d-split-fetch", 4, RecordingAgents.okAfter(20))
                .agent("d-split-slow", 8, RecordingAgents.okAfter(300));
             EventSender sender = new EventSender(infra.connectionFactory())) {
            CompletableFuture<CoordinatorProcess> startingB = CompletableFuture.supplyAsync(() -> start("split-b"));
            try (CoordinatorProcess a = start("split-a"); CoordinatorProcess b = startingB.join()) {
                List<String> events = sender.events("D_SPLIT", EXECUTIONS);
                await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(50)).until(() -> {
                    Map<String, Long> split = audit.stepsByInstance(WORKFLOW);
                    return split.getOrDefault("split-a", 0L) > 40 && split.getOrDefault("split-b", 0L) > 40;
                });
                a.kill();
                Map<String, Long> splitAtKill = audit.stepsByInstance(WORKFLOW);
                long completedAtKill = audit.completed(WORKFLOW);
                long killedAt = System.nanoTime();

                await().atMost(Duration.ofSeconds(150)).pollInterval(Duration.ofMillis(200)).until(() -> audit.lost(events) == 0);
                long recoveredMs = (System.nanoTime() - killedAt) / 1_000_000;
                await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
                        assertThat(audit.openJoins()).as("open joins: %s", audit.openJoinDetails()).isZero());

                Audit.Dispatches dispatches = audit.dispatches(agents.requests(), WORKFLOW);
                System.out.printf("DURABILITY case 2 (two coordinators, one killed): %d executions; steps dispatched per instance "
                                + "at the kill %s (%d executions completed), at the end %s; survivor finished all %d ms after the kill; "
                                + "lost %d; %s%n", EXECUTIONS, splitAtKill, completedAtKill, audit.stepsByInstance(WORKFLOW),
                        recoveredMs, audit.lost(events), dispatches);
                assertThat(audit.lost(events)).as("executions lost").isZero();
                assertThat(audit.executionsByStatus(WORKFLOW)).containsOnlyKeys("completed");
                assertThat(dispatches.afterResultRecorded()).as("dispatched again after their result was recorded: "
                        + dispatches.afterResultExamples()).isZero();
                assertThat(b.isAlive()).isTrue();
            }
        }
    }

    private CoordinatorProcess start(String instanceId) {
        try {
            return CoordinatorProcess.start(infra, instanceId);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
