package dev.agentcoordinator.engine;

import dev.agentcoordinator.locks.AcquireResult;
import dev.agentcoordinator.locks.LockHolder;
import dev.agentcoordinator.locks.LockRequest;
import dev.agentcoordinator.locks.ResourceLockStore;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;
import org.junit.jupiter.api.parallel.ResourceAccessMode;
import org.junit.jupiter.api.parallel.ResourceLock;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static dev.agentcoordinator.engine.ScriptedAgents.Reply;
import static dev.agentcoordinator.engine.TestCoordinator.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * README "Resource locks": when a lock comes free the highest waiter gets it. A step trying its locks for the first time
 * (a new execution's, a dependent's) between the release and the next lock sweep took the free lock whatever waited for
 * it: a lower priority one had its request sent, and the waiting higher one preempted it at the next sweep, both agents
 * then working on the resource at once (6 rounds of 10, the sweep running every 50 ms). Such a step now waits behind a
 * waiter of higher or equal priority, and the sweep serves them in order.
 */
// Its methods run side by side (@Execution(CONCURRENT), junit-platform.properties): each waits for agents, locks and
// sweeps of its own users' executions. Those that stop the lock sweep run alone (READ_WRITE): another's restart would
// end their window, and a stopped sweep would hide a preemption or a missed try from the others (READ).
class LockNewcomerTest {
    private static final String LOCK_SWEEP = "coordinator.locks.waiting";
    private static ScriptedAgents agents;
    private static ResourceLockStore locks;

    @BeforeAll
    static void agents() throws Exception {
        locks = new ResourceLockStore(shared().dataSource());
        // g-lock-low (priority 1) works on the roadmap for 2 s, g-lock-mid (priority 3) for 300 ms (TestCoordinator's priorities),
        // but fails its first attempt of busy_once after 1.5 s
        agents = new ScriptedAgents(shared().connectionFactory())
                .agent("g-lock-low", r -> List.of(Reply.ok(Map.of()).after(2000)))
                .agent("g-lock-mid", r -> "busy_once".equals(r.action()) && r.request().path("attempt").asInt() == 1
                        ? List.of(Reply.error("busy", true).after(1500)) : List.of(Reply.ok(Map.of()).after(300)))
                .agent("g-lock-architect", r -> List.of(Reply.ok(Map.of())))
                .agent("g-lock-plain", r -> List.of(Reply.ok(Map.of())))
                .agent("g-lock-later", r -> List.of(Reply.ok(Map.of()).after(800)))
                .agent("g-lock-fail", r -> List.of(Reply.error("boom", false)));
    }

    @AfterAll
    static void stop() throws Exception {
        agents.close();
    }

    @Test
    @Execution(ExecutionMode.CONCURRENT)
    @ResourceLock(value = LOCK_SWEEP, mode = ResourceAccessMode.READ_WRITE)
    void aLowerPriorityNewcomerDoesNotTakeALockAHigherWaiterWaitsFor() throws Exception {
        String user = "u-" + UUID.randomUUID().toString().substring(0, 8);
        AcquireResult.Acquired held = heldElsewhere("roadmap", user);
        String mid = sendEvent("G_LOCK_ORDER_MID", "{\"user_id\":\"" + user + "\"}");
        awaitWaiting(mid);

        // the lock comes free between two lock sweeps (stopped here so that the window is as wide as the test needs:
        // by default it is up to coordinator.supervisor.period-ms, 200 ms, plus the sweeps before it on their timer)
        lockSweep(false);
        String low;
        try {
            assertThat(locks.release(held.lockId())).isTrue();
            low = sendEvent("G_LOCK_ORDER_LOW", "{\"user_id\":\"" + user + "\"}");   // a new execution's step, its first try
            // it took the lock and its request went out, or it waits
            await().atMost(Duration.ofSeconds(20)).until(() -> executionOf(low) != null
                    && (agents.received().stream().anyMatch(r -> r.request().path("execution_id").asText().equals(executionOf(low)))
                        || !query("SELECT 1 FROM workflow_step_executions WHERE execution_id = ? AND waiting_for IS NOT NULL",
                                  executionOf(low)).isEmpty()));
        } finally {
            lockSweep(true);
        }

        await().atMost(Duration.ofSeconds(30)).until(() -> "completed".equals(executionStatus(executionOf(low)))
                && "completed".equals(executionStatus(executionOf(mid))));
        ScriptedAgents.Received lowRequest = agents.received().stream()
                .filter(r -> r.request().path("execution_id").asText().equals(executionOf(low))).findFirst().orElseThrow();
        ScriptedAgents.Received midRequest = agents.received().stream()
                .filter(r -> r.request().path("execution_id").asText().equals(executionOf(mid))).findFirst().orElseThrow();
        long midAfterLowMs = TimeUnit.NANOSECONDS.toMillis(midRequest.receivedAtNanos() - lowRequest.receivedAtNanos());
        List<Map<String, Object>> events = query("SELECT event, holder->>'locked_by' AS lost_by, taken_by->>'locked_by' AS taken_by"
                + " FROM lock_events WHERE resource_id = ?", user);
        assertThat(events).as("the lower newcomer's request went out at +0 ms, the waiting higher one's at +%d ms,"
                + " while the lower agent still worked (2000 ms)", midAfterLowMs).isEmpty();
    }

    /**
     * A waiter of another resource whose id starts with this one's and a space (roadmap/"u x", roadmap/"u") is no waiter
     * of this one: the first version matched the start of the waiter's note and yielded (the diff reviewer's test).
     */
    @Test
    @Execution(ExecutionMode.CONCURRENT)
    @ResourceLock(value = LOCK_SWEEP, mode = ResourceAccessMode.READ_WRITE)
    void aNewcomerDoesNotYieldToAWaiterOfAnotherResource() throws Exception {
        String user = "u-" + UUID.randomUUID().toString().substring(0, 8);
        // another resource, whose id starts with this one's and a space
        assertTheFreeLockIsTakenAtOnceBesideAWaiterOf(user + " x", user);
    }

    /**
     * A waiter's locks are compared type with type and id with id: a newcomer for roadmap/"roadmap", free, does not wait
     * behind a waiter of roadmap/"u-…" (a first version compared them as jsonb sets, where ["roadmap","u"] holds
     * ["roadmap","roadmap"]: the verifier's test).
     */
    @Test
    @Execution(ExecutionMode.CONCURRENT)
    @ResourceLock(value = LOCK_SWEEP, mode = ResourceAccessMode.READ_WRITE)
    void aNewcomerForAnIdEqualToItsTypeDoesNotYieldToAWaiterOfAnotherId() throws Exception {
        assertTheFreeLockIsTakenAtOnceBesideAWaiterOf("v-" + UUID.randomUUID().toString().substring(0, 8), "roadmap");
    }

    /**
     * A waiter of two locks, blocked on one, is a waiter of the other too: a newcomer for that other, free one waits
     * behind it. Its note names only the lock that blocked it, and the newcomer took the other and was preempted a
     * moment later (the lock chaos tester's finding: 3 newcomers in 842 executions).
     */
    @Test
    @Execution(ExecutionMode.CONCURRENT)
    @ResourceLock(value = LOCK_SWEEP, mode = ResourceAccessMode.READ_WRITE)
    void aNewcomerWaitsBehindAWaiterOfTwoLocksBlockedOnTheOther() throws Exception {
        String user = "t-" + UUID.randomUUID().toString().substring(0, 8);
        AcquireResult.Acquired held = heldElsewhere("skills", user);
        String two = sendEvent("G_LOCK_TWO_MID", "{\"user_id\":\"" + user + "\"}");
        await().atMost(Duration.ofSeconds(20)).until(() -> executionOf(two) != null && query("SELECT 1 FROM workflow_step_executions"
                + " WHERE execution_id = ? AND waiting_for LIKE 'lock skills/%'", executionOf(two)).size() == 1);

        FirstTry low;
        try {
            low = lowNewcomerFirstTry(user, () -> null);   // roadmap/<user>: free, wanted by the waiter
        } finally {
            assertThat(locks.release(held.lockId())).isTrue();
        }
        assertThat(low.waitingFor()).startsWith("lock roadmap/" + user + " waited for first by g-lock-mid (priority 3");
        awaitBothCompletedWithoutPreemption(low.event(), two, user);
    }

    /**
     * The lock sweep's own tries yield to a waiter of higher priority too: a lower waiter of the roadmap, tried after a
     * higher waiter of the roadmap and the skill set, blocked on the skill set, took the roadmap as soon as it came free,
     * and the higher one preempted it once the skill set came free, both agents then working on the roadmap (the lock
     * sweep tries every waiter; it yielded only on a first try).
     */
    @Test
    @Execution(ExecutionMode.CONCURRENT)
    @ResourceLock(value = LOCK_SWEEP, mode = ResourceAccessMode.READ)
    void aLowerWaiterDoesNotTakeALockAHigherWaiterOfTwoLocksStillNeeds() throws Exception {
        String user = "s-" + UUID.randomUUID().toString().substring(0, 8);
        AcquireResult.Acquired roadmap = heldElsewhere("roadmap", user);
        AcquireResult.Acquired skills = heldElsewhere("skills", user);
        try {
            String two = sendEvent("G_LOCK_TWO_MID", "{\"user_id\":\"" + user + "\"}");
            awaitWaiting(two);
            String low = sendEvent("G_LOCK_ORDER_LOW", "{\"user_id\":\"" + user + "\"}");
            awaitWaiting(low);

            assertThat(locks.release(roadmap.lockId())).isTrue();   // the sweep tries both, the higher one first
            await().during(Duration.ofMillis(1500)).atMost(Duration.ofSeconds(10))
                    .until(() -> "pending".equals(stepRow(executionOf(low), "change").get("status")));
            assertThat(query("SELECT waiting_for FROM workflow_step_executions WHERE execution_id = ?", executionOf(low)))
                    .singleElement().satisfies(r -> assertThat((String) r.get("waiting_for")).startsWith("lock roadmap/" + user + " waited for first by g-lock-mid (priority 3"));

            assertThat(locks.release(skills.lockId())).isTrue();
            awaitBothCompletedWithoutPreemption(low, two, user);
        } finally {
            locks.release(roadmap.lockId());
            locks.release(skills.lockId());
        }
    }

    /**
     * Steps of one execution that start together are tried highest priority first: the roots went in the order they are
     * written, the lower one took the free lock, its request went out, and its sibling preempted it a few milliseconds
     * later (the lock chaos tester: 41 of 239 executions).
     */
    @Test
    @Execution(ExecutionMode.CONCURRENT)
    @ResourceLock(value = LOCK_SWEEP, mode = ResourceAccessMode.READ)
    void siblingsThatStartTogetherTakeALockHighestPriorityFirst() throws Exception {
        String user = "b-" + UUID.randomUUID().toString().substring(0, 8);
        String execution = ExecutionProbe.awaitExecution(sendEvent("G_LOCK_SIBLINGS", "{\"user_id\":\"" + user + "\"}"), "completed");
        assertThat(query("SELECT event FROM lock_events WHERE resource_id = ?", user)).as("no preemption").isEmpty();
        assertThat(agents.received()).filteredOn(r -> r.request().path("execution_id").asText().equals(execution))
                .extracting(r -> r.request().path("step_id").asText()).containsExactly("mid_second", "low_first");
    }

    /** A join among the dependents of one step: the join of higher priority, written second, goes first (the verifier's test). */
    @Test
    @Execution(ExecutionMode.CONCURRENT)
    @ResourceLock(value = LOCK_SWEEP, mode = ResourceAccessMode.READ)
    void aJoinOfHigherPriorityAmongTheDependentsGoesFirst() throws Exception {
        String user = "j-" + UUID.randomUUID().toString().substring(0, 8);
        String execution = ExecutionProbe.awaitExecution(sendEvent("G_LOCK_JOIN_SIBLINGS", "{\"user_id\":\"" + user + "\"}"), "completed");
        assertThat(query("SELECT event FROM lock_events WHERE resource_id = ?", user)).as("no preemption").isEmpty();
        assertThat(agents.received()).filteredOn(r -> r.request().path("execution_id").asText().equals(execution))
                .filteredOn(r -> r.agent().equals("g-lock-low") || r.agent().equals("g-lock-mid"))
                .extracting(r -> r.request().path("step_id").asText()).containsExactly("mid_join", "low_first");
    }

    /**
     * The undos of two steps that become ready together (their one dependent failed) take the steps' lock as their
     * compensating agents, highest priority first: the lower one, first in the plan, took the free lock, its request went
     * out, and the higher one preempted it a moment later, both agents then undoing on the resource (the verifier's test).
     */
    @Test
    @Execution(ExecutionMode.CONCURRENT)
    @ResourceLock(value = LOCK_SWEEP, mode = ResourceAccessMode.READ)
    void undosThatStartTogetherTakeALockHighestPriorityFirst() throws Exception {
        String user = "u-" + UUID.randomUUID().toString().substring(0, 8);
        String eventId = sendEvent("G_LOCK_UNDO_SIBLINGS", "{\"user_id\":\"" + user + "\"}");
        await().atMost(Duration.ofSeconds(40)).until(() -> executionOf(eventId) != null
                && List.of("compensated", "compensation_failed").contains(executionStatus(executionOf(eventId))));
        assertThat(executionStatus(executionOf(eventId))).isEqualTo("compensated");
        assertThat(query("SELECT event FROM lock_events WHERE resource_id = ?", user)).as("no preemption").isEmpty();
    }

    /**
     * A waiter no coordinator tries (of a version none of the running ones runs) is no waiter to yield to once it has not
     * been tried lately: every lower step of its resource yielded to it, in the lock sweep too, and failed at its own
     * timeout, the lock free all along (the verifier's test; its version stands for one only a stopped coordinator ran).
     */
    @Test
    @Execution(ExecutionMode.CONCURRENT)
    @ResourceLock(value = LOCK_SWEEP, mode = ResourceAccessMode.READ_WRITE)
    void aWaiterNoCoordinatorTriesHoldsNoLowerOneBack() throws Exception {
        String user = "v-" + UUID.randomUUID().toString().substring(0, 8);
        AcquireResult.Acquired held = heldElsewhere("roadmap", user);
        String mid = sendEvent("G_LOCK_ORDER_MID", "{\"user_id\":\"" + user + "\"}");
        awaitWaiting(mid);
        try {
            // the lock sweep stopped meanwhile: a batch read before the version changed would run it after the release
            lockSweep(false);
            try {
                query("UPDATE workflow_executions SET workflow_version = 999 WHERE id = ? RETURNING id", executionOf(mid));
                assertThat(locks.release(held.lockId())).isTrue();
            } finally {
                lockSweep(true);
            }
            String low = sendEvent("G_LOCK_ORDER_LOW", "{\"user_id\":\"" + user + "\"}");   // its step's timeout: 20 s
            await().atMost(Duration.ofSeconds(30)).until(() -> executionOf(low) != null
                    && List.of("completed", "failed").contains(executionStatus(executionOf(low))));
            assertThat(executionStatus(executionOf(low))).as("%s", stepRow(executionOf(low), "change")).isEqualTo("completed");
        } finally {
            query("UPDATE workflow_step_executions SET status = 'failed', waiting_for = NULL WHERE execution_id = ? RETURNING id",
                    executionOf(mid));
        }
    }

    /**
     * A waiter whose version a running coordinator runs is waited for however long ago it was tried: the lock sweep pauses
     * while the broker cannot be reached, and a first version that counted only waiters tried in the last 50 periods let
     * a lower newcomer take the lock after such a pause (the diff reviewer's test; the waiter's last try is set back here).
     */
    @Test
    @Execution(ExecutionMode.CONCURRENT)
    @ResourceLock(value = LOCK_SWEEP, mode = ResourceAccessMode.READ_WRITE)
    void aWaiterNotTriedForLongIsWaitedForWhileACoordinatorRunsItsVersion() throws Exception {
        String user = "p-" + UUID.randomUUID().toString().substring(0, 8);
        AcquireResult.Acquired held = heldElsewhere("roadmap", user);
        String mid = sendEvent("G_LOCK_ORDER_MID", "{\"user_id\":\"" + user + "\"}");
        awaitWaiting(mid);
        FirstTry low = lowNewcomerFirstTry(user, () -> {
            query("UPDATE workflow_step_executions SET updated_at = now() - interval '1 hour' WHERE execution_id = ? RETURNING id",
                    executionOf(mid));
            return locks.release(held.lockId());
        });
        assertThat(low.waitingFor()).startsWith("lock roadmap/" + user + " waited for first by g-lock-mid");
        awaitBothCompletedWithoutPreemption(low.event(), mid, user);
    }

    /**
     * A step requeued to take its locks again (a retry; its lock lapsed during the backoff) is a waiter of them: a lower
     * newcomer took the free lock before the requeued step's first try, whose sweep try then preempted it (the verifier's
     * test).
     */
    @Test
    @Execution(ExecutionMode.CONCURRENT)
    @ResourceLock(value = LOCK_SWEEP, mode = ResourceAccessMode.READ_WRITE)
    void aNewcomerWaitsBehindAStepWaitingForItsLocksAgain() throws Exception {
        String user = "n-" + UUID.randomUUID().toString().substring(0, 8);
        String mid = sendEvent("G_LOCK_RETRY_MID", "{\"user_id\":\"" + user + "\"}");
        await().atMost(Duration.ofSeconds(20)).until(() -> executionOf(mid) != null && waitingForNextAttempt(executionOf(mid), "change"));
        // the sweep stopped widens the window between the requeue and its first sweep try (up to one period otherwise)
        FirstTry low = lowNewcomerFirstTry(user, () -> {
            await().atMost(Duration.ofSeconds(20)).until(() -> String.valueOf(query("SELECT waiting_for FROM workflow_step_executions"
                    + " WHERE execution_id = ?", executionOf(mid)).get(0).get("waiting_for")).startsWith("its locks again"));
            return null;
        });
        assertThat(low.waitingFor()).startsWith("lock roadmap/" + user + " waited for first by g-lock-mid");
        awaitBothCompletedWithoutPreemption(low.event(), mid, user);
    }

    /**
     * A waiter whose time ran out while the lock sweep did not try it (it pauses while the broker cannot be reached) is
     * tried once more before it fails: it was failed as soon as the broker was back, before any try (a chaos run: a
     * wait of 22.9 s, 18.4 of them with both its locks free). Here the lock comes free meanwhile: it gets it.
     */
    @Test
    @Execution(ExecutionMode.CONCURRENT)
    @ResourceLock(value = LOCK_SWEEP, mode = ResourceAccessMode.READ_WRITE)
    void aWaiterNotTriedSinceItsTimeRanOutIsTriedOnceMoreBeforeItFails() throws Exception {
        String user = "w-" + UUID.randomUUID().toString().substring(0, 8);
        AcquireResult.Acquired held = heldElsewhere("roadmap", user);
        // stopped before the step's first try, as while the broker cannot be reached: stopped after it, a sweep could try
        // the step once its 400 ms ran out and fail it, the lock still held (a loaded machine's slow start of the test)
        lockSweep(false);
        String execution;
        try {
            String eventId = sendEvent("G_LOCK_TIMEOUT", "{\"user_id\":\"" + user + "\"}");   // the step's timeout: 400 ms
            awaitWaiting(eventId);   // its first try
            execution = executionOf(eventId);
            assertThat(locks.release(held.lockId())).isTrue();
            await().during(Duration.ofMillis(1500)).atMost(Duration.ofSeconds(5))
                    .until(() -> "pending".equals(stepRow(execution, "adjust").get("status")));
        } finally {
            lockSweep(true);
        }
        await().atMost(Duration.ofSeconds(20)).until(() -> "completed".equals(executionStatus(execution)));
    }

    /**
     * A step of mid priority waits for roadmap/{@code waitedFor}, held elsewhere; a newcomer of low priority for
     * roadmap/{@code asked}, which nobody holds or waits for, takes it at its first try (the lock sweep stopped).
     */
    private static void assertTheFreeLockIsTakenAtOnceBesideAWaiterOf(String waitedFor, String asked) throws Exception {
        AcquireResult.Acquired held = heldElsewhere("roadmap", waitedFor);
        try {
            awaitWaiting(sendEvent("G_LOCK_ORDER_MID", "{\"user_id\":\"" + waitedFor + "\"}"));
            assertThat(lowNewcomerFirstTry(asked, () -> null).waitingFor()).as("roadmap/%s is free", asked).isNull();
        } finally {
            locks.release(held.lockId());
        }
    }

    /**
     * The lock sweep notes a waiter of a lock held by a holder it cannot take it from without a try (LockRoutes): as its try
     * would (the holder, and updated_at, which says it was tried), and it takes the lock once that is free.
     */
    @Test
    @Execution(ExecutionMode.CONCURRENT)
    @ResourceLock(value = LOCK_SWEEP, mode = ResourceAccessMode.READ)
    void aWaiterOfAHeldLockIsNotedAsItsTryWouldNoteIt() {
        String user = "q-" + UUID.randomUUID().toString().substring(0, 8);
        AcquireResult.Acquired held = heldElsewhere("roadmap", user);
        try {
            String mid = sendEvent("G_LOCK_ORDER_MID", "{\"user_id\":\"" + user + "\"}");
            awaitWaiting(mid);
            java.sql.Timestamp first = (java.sql.Timestamp) waiterOf(executionOf(mid)).get("updated_at");
            await().atMost(Duration.ofSeconds(10)).until(() -> ((java.sql.Timestamp) waiterOf(executionOf(mid)).get("updated_at")).after(first));
            assertThat(waiterOf(executionOf(mid)).get("waiting_for")).isEqualTo("lock roadmap/" + user + " held by strategist (priority 5,"
                    + " execution holding-execution, step set_goals) until " + Json.time(held.expiresAt()));

            assertThat(locks.release(held.lockId())).isTrue();
            await().atMost(Duration.ofSeconds(20)).until(() -> "completed".equals(executionStatus(executionOf(mid))));
        } finally {
            locks.release(held.lockId());
        }
    }

    /**
     * The sweep notes a blocked waiter only while the holder it read still holds the lock: one that let go between the
     * sweep's read and its note left the waiter noted as tried (and failed, when its time had run out) for a free lock.
     */
    @Test
    @Execution(ExecutionMode.CONCURRENT)
    @ResourceLock(value = LOCK_SWEEP, mode = ResourceAccessMode.READ_WRITE)
    void aWaiterIsNotNotedForAHolderThatLetGo() throws Exception {
        String user = "n-" + UUID.randomUUID().toString().substring(0, 8);
        AcquireResult.Acquired held = heldElsewhere("roadmap", user);
        String mid = sendEvent("G_LOCK_ORDER_MID", "{\"user_id\":\"" + user + "\"}");
        lockSweep(false);
        try {
            awaitWaiting(mid);   // its first try
            String rowId = (String) query("SELECT id FROM workflow_step_executions WHERE execution_id = ? AND waiting_for IS NOT NULL",
                    executionOf(mid)).get(0).get("id");
            org.springframework.jdbc.core.JdbcTemplate db = new org.springframework.jdbc.core.JdbcTemplate(shared().dataSource());
            String note = "lock roadmap/" + user + " held by strategist";
            Object[] byTheHolder = {note, rowId, "roadmap", user, "holding-execution", "set_goals"};
            assertThat(db.update(dev.agentcoordinator.locks.LockSql.named("note-blocked-waiter"), byTheHolder)).isEqualTo(1);
            assertThat(locks.release(held.lockId())).isTrue();
            assertThat(db.update(dev.agentcoordinator.locks.LockSql.named("note-blocked-waiter"), byTheHolder)).as("the holder let go").isZero();
        } finally {
            lockSweep(true);
            locks.release(held.lockId());
        }
        await().atMost(Duration.ofSeconds(20)).until(() -> "completed".equals(executionStatus(executionOf(mid))));
    }

    /** A waiter no running coordinator tries must age out (find-lock-waiters.sql): the sweep does not note it either. */
    @Test
    @Execution(ExecutionMode.CONCURRENT)
    @ResourceLock(value = LOCK_SWEEP, mode = ResourceAccessMode.READ_WRITE)
    void aWaiterOfAHeldLockOfAVersionNoCoordinatorRunsIsNotNoted() throws Exception {
        String user = "r-" + UUID.randomUUID().toString().substring(0, 8);
        AcquireResult.Acquired held = heldElsewhere("roadmap", user);
        String execution = null;
        try {
            String mid = sendEvent("G_LOCK_ORDER_MID", "{\"user_id\":\"" + user + "\"}");
            awaitWaiting(mid);
            execution = executionOf(mid);
            // with the sweep stopped: a pass that read the waiter before it aged would note it after (a run beside the others)
            lockSweep(false);
            try {
                query("UPDATE workflow_executions SET workflow_version = 999 WHERE id = ? RETURNING id", execution);
                query("UPDATE workflow_step_executions SET updated_at = now() - interval '1 hour' WHERE execution_id = ? RETURNING id", execution);
            } finally {
                lockSweep(true);
            }
            org.apache.camel.builder.NotifyBuilder sweeps = new org.apache.camel.builder.NotifyBuilder(shared().camelContext())
                    .fromRoute(LOCK_SWEEP).whenCompleted(20).create();
            assertThat(sweeps.matches(30, TimeUnit.SECONDS)).as("20 lock sweeps").isTrue();
            assertThat(query("SELECT 1 FROM workflow_step_executions WHERE execution_id = ? AND updated_at < now() - interval '59 minutes'",
                    execution)).as("not noted: %s", waiterOf(execution)).hasSize(1);
        } finally {
            locks.release(held.lockId());
            if (execution != null) {
                query("UPDATE workflow_step_executions SET status = 'failed', waiting_for = NULL WHERE execution_id = ? RETURNING id", execution);
            }
        }
    }

    /** The waiting_for and updated_at of the execution's step that waits. */
    private static Map<String, Object> waiterOf(String execution) {
        List<Map<String, Object>> rows = query("SELECT waiting_for, updated_at FROM workflow_step_executions"
                + " WHERE execution_id = ? AND waiting_for IS NOT NULL", execution);
        return rows.isEmpty() ? null : rows.get(0);
    }

    /** A lock on that resource, held by a step of another execution (priority 5). */
    private static AcquireResult.Acquired heldElsewhere(String resourceType, String resourceId) {
        return (AcquireResult.Acquired) locks.acquire(new LockHolder("strategist", 5, "holding-execution", "set_goals"),
                new LockRequest(resourceType, resourceId, 60_000));
    }

    /** The event that started a newcomer's execution, and what its step waited for after its first try (null: it runs). */
    private record FirstTry(String event, String waitingFor) {
    }

    /**
     * With the lock sweep stopped (only first tries take locks, and a lock can come free between two sweeps for as long as
     * the test needs): does {@code meanwhile}, then starts a step of low priority for roadmap/{@code user} and waits for
     * its first try.
     */
    private static FirstTry lowNewcomerFirstTry(String user, java.util.concurrent.Callable<?> meanwhile) throws Exception {
        lockSweep(false);
        try {
            meanwhile.call();
            String low = sendEvent("G_LOCK_ORDER_LOW", "{\"user_id\":\"" + user + "\"}");
            awaitFirstTry(low);
            return new FirstTry(low, (String) query("SELECT waiting_for FROM workflow_step_executions WHERE execution_id = ?",
                    executionOf(low)).get(0).get("waiting_for"));
        } finally {
            lockSweep(true);
        }
    }

    /** Waits until the executions those events started have completed, and finds no preemption on roadmap/{@code user}. */
    private static void awaitBothCompletedWithoutPreemption(String oneEvent, String otherEvent, String user) {
        await().atMost(Duration.ofSeconds(30)).until(() -> "completed".equals(executionStatus(executionOf(oneEvent)))
                && "completed".equals(executionStatus(executionOf(otherEvent))));
        assertThat(query("SELECT event FROM lock_events WHERE resource_id = ?", user)).as("no preemption").isEmpty();
    }

    /** Waits until the execution that event started has a step waiting for its locks. */
    private static void awaitWaiting(String eventId) {
        await().atMost(Duration.ofSeconds(20)).until(() -> executionOf(eventId) != null && query("SELECT 1 FROM workflow_step_executions"
                + " WHERE execution_id = ? AND waiting_for IS NOT NULL", executionOf(eventId)).size() == 1);
    }

    /** Waits until the step of the execution that event started has tried its locks: it waits, or runs. */
    private static void awaitFirstTry(String eventId) {
        await().atMost(Duration.ofSeconds(20)).until(() -> executionOf(eventId) != null && !query("SELECT 1 FROM workflow_step_executions"
                + " WHERE execution_id = ? AND (waiting_for IS NOT NULL OR status <> 'pending')", executionOf(eventId)).isEmpty());
    }

    /** Starts or stops the lock sweep: stopped, only first tries take locks, and a lock can come free between two sweeps for as long as the test needs. */
    private static void lockSweep(boolean running) throws Exception {
        org.apache.camel.spi.RouteController routes = shared().camelContext().getRouteController();
        if (running) {
            routes.startRoute(LOCK_SWEEP);
        } else {
            routes.stopRoute(LOCK_SWEEP);
        }
    }
}
