package dev.agentcoordinator.durability;

import dev.agentcoordinator.StartsChildProcesses;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Case 1: kill -9 a coordinator JVM while executions of a fan-out / fan-in workflow are in flight
 * against slow agents, start a new one, and count what was lost: nothing may be, no step whose
 * result was recorded may be dispatched again, and the partial joins left behind are recovered.
 */
@StartsChildProcesses
class CoordinatorCrashTest {
    private static final String WORKFLOW = "d_crash";
    /** d_crash.yaml's attempt timeout of every step. */
    private static final long ATTEMPT_TIMEOUT_MS = 15_000;

    private final OwnedInfrastructure infra = OwnedInfrastructure.shared();
    private final Audit audit = new Audit(infra);

    @Test
    void killNineWithExecutionsInFlightLosesNothing() throws Exception {
        crashAndRecover(100);
    }

    @Test
    @Tag("durability")
    @EnabledIfSystemProperty(named = "durability.heavy", matches = "true")
    void killNineWithAThousandExecutionsInFlightLosesNothing() throws Exception {
        crashAndRecover(1000);
    }

    private void crashAndRecover(int executions) throws Exception {
        int steps = executions * 5;
        try (RecordingAgents agents = new RecordingAgents(infra.connectionFactory())
                .agent("d-crash-fetch", 4, RecordingAgents.okAfter(20))
                // c answers well after a and b, so that every fan-in spends a while half-joined
                .agent("d-crash-slow", 8, request -> RecordingAgents.okAfter("c".equals(request.stepId()) ? 900 : 300).answer(request));
             EventSender sender = new EventSender(infra.connectionFactory())) {
            long before = infra.count("SELECT count(*) FROM workflow_step_executions s JOIN workflow_executions e "
                    + "ON e.id = s.execution_id WHERE e.workflow_id = ? AND s.status = 'completed'", WORKFLOW);
            List<String> events;
            Crash crash;
            try (CoordinatorProcess first = CoordinatorProcess.start(infra, "crash-1")) {
                events = sender.events("D_CRASH", executions);
                // kill once a good part of the work is done and fan-ins are half-joined
                await().atMost(Duration.ofSeconds(60 + executions / 5)).pollInterval(Duration.ofMillis(50)).until(() ->
                        completedSteps() - before >= steps * 3L / 10 && infra.count("SELECT count(*) FROM step_joins") > 0);
                first.kill();
                crash = Crash.observe(infra, audit, WORKFLOW, executions);
            }

            long restartedAt = System.nanoTime();
            try (CoordinatorProcess second = CoordinatorProcess.start(infra, "crash-2")) {
                long startedMs = (System.nanoTime() - restartedAt) / 1_000_000;
                await().atMost(Duration.ofSeconds(120 + executions / 4)).pollInterval(Duration.ofMillis(200))
                        .until(() -> audit.lost(events) == 0);
                long recoveredMs = (System.nanoTime() - restartedAt) / 1_000_000;
                await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
                        assertThat(audit.openJoins()).as("open joins: %s", audit.openJoinDetails()).isZero());

                Audit.Dispatches dispatches = audit.dispatches(agents.requests(), WORKFLOW);
                System.out.printf("DURABILITY case 1 (kill -9 coordinator): %d executions sent; at the kill %s; "
                                + "restart took %d ms, all completed %d ms after restart; lost %d; %s; split %s; "
                                + "%d attempts timed out, %d of them answered in time%n",
                        executions, crash, startedMs, recoveredMs, audit.lost(events), dispatches, audit.stepsByInstance(WORKFLOW),
                        audit.timedOutAttempts(WORKFLOW, agents).size(),
                        audit.answeredInTimeButTimedOut(WORKFLOW, agents, ATTEMPT_TIMEOUT_MS).size());
                assertThat(audit.lost(events)).as("executions lost").isZero();
                assertThat(dispatches.afterResultRecorded()).as("dispatched again after their result was recorded: "
                        + dispatches.afterResultExamples()).isZero();
                assertThat(audit.executionsByStatus(WORKFLOW)).containsOnlyKeys("completed");
                // a reply sent in time that waited in the queue through the outage settles its attempt
                assertThat(audit.answeredInTimeButTimedOut(WORKFLOW, agents, ATTEMPT_TIMEOUT_MS))
                        .as("timed out although their reply was sent in time").isEmpty();
                assertThat(crash.partialJoins()).as("partial joins at the kill (to be recovered)").isPositive();
                assertThat(second.isAlive()).isTrue();
            }
        }
    }

    private long completedSteps() {
        return infra.count("SELECT count(*) FROM workflow_step_executions s JOIN workflow_executions e "
                + "ON e.id = s.execution_id WHERE e.workflow_id = ? AND s.status = 'completed'", WORKFLOW);
    }

    /** What the database showed right after the kill. */
    record Crash(long completedExecutions, long runningExecutions, long runningSteps, long partialJoins) {
        static Crash observe(OwnedInfrastructure infra, Audit audit, String workflow, int executions) {
            return new Crash(audit.completed(workflow),
                    infra.count("SELECT count(*) FROM workflow_executions WHERE workflow_id = ? AND status = 'running'", workflow),
                    infra.count("SELECT count(*) FROM workflow_step_executions s JOIN workflow_executions e ON e.id = s.execution_id "
                            + "WHERE e.workflow_id = ? AND s.status = 'running'", workflow),
                    infra.count("SELECT count(*) FROM step_joins"));
        }

        @Override
        public String toString() {
            return completedExecutions + " executions completed, " + runningExecutions + " running, "
                    + runningSteps + " steps waiting on agents, " + partialJoins + " partial joins";
        }
    }
}
