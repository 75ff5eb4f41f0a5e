package dev.agentcoordinator.locks;

import dev.agentcoordinator.engine.TestCoordinator;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static dev.agentcoordinator.engine.TestCoordinator.query;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** acquireResourceLock done right: one statement decides, against the coordinator's real PostgreSQL. */
class ResourceLockStoreTest {
    private static ResourceLockStore locks;

    @BeforeAll
    static void store() {
        locks = new ResourceLockStore(TestCoordinator.shared().dataSource());
    }

    private static String unique(String prefix) {
        return prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
    }

    @Test
    void fiftyRacersNeverHoldTheLockTogether() throws Exception {
        String resource = unique("race");
        int racers = 50;
        AtomicReference<String> believedHolder = new AtomicReference<>();
        AtomicInteger wins = new AtomicInteger();
        ConcurrentLinkedQueue<String> violations = new ConcurrentLinkedQueue<>();
        AtomicBoolean racing = new AtomicBoolean(true);
        CountDownLatch start = new CountDownLatch(1);

        // the table itself, sampled while the racers run: at most one live holder, and it is the believed one
        Thread sampler = new Thread(() -> {
            while (racing.get()) {
                List<Map<String, Object>> rows = query("SELECT execution_id FROM resource_locks "
                        + "WHERE resource_type = 'roadmap' AND resource_id = ? AND expires_at >= now()", resource);
                if (rows.size() > 1) {
                    violations.add("table has " + rows.size() + " holders");
                }
            }
        }, "lock-sampler");
        sampler.start();

        ExecutorService pool = Executors.newFixedThreadPool(racers);
        List<Future<?>> done = new ArrayList<>();
        for (int i = 0; i < racers; i++) {
            String racer = "racer-" + i;
            done.add(pool.submit(() -> {
                start.await();
                LockHolder me = new LockHolder("architect", 4, racer, "step");
                for (int round = 0; round < 3; round++) {
                    AcquireResult result;
                    do {
                        result = locks.acquire(me, new LockRequest("roadmap", resource, 60_000));
                    } while (!result.acquired());
                    if (!believedHolder.compareAndSet(null, racer)) {
                        violations.add(racer + " acquired while " + believedHolder.get() + " held it");
                    }
                    wins.incrementAndGet();
                    List<Map<String, Object>> row = query("SELECT execution_id FROM resource_locks "
                            + "WHERE resource_type = 'roadmap' AND resource_id = ?", resource);
                    if (row.size() != 1 || !racer.equals(row.get(0).get("execution_id"))) {
                        violations.add(racer + " holds the lock but the table says " + row);
                    }
                    believedHolder.set(null);
                    assertThat(locks.release(((AcquireResult.Acquired) result).lockId())).isTrue();
                }
                return null;
            }));
        }
        start.countDown();
        for (Future<?> future : done) {
            future.get(120, TimeUnit.SECONDS);
        }
        racing.set(false);
        sampler.join();
        pool.shutdown();

        assertThat(violations).isEmpty();
        assertThat(wins.get()).isEqualTo(racers * 3);
        assertThat(query("SELECT 1 FROM resource_locks WHERE resource_id = ?", resource)).isEmpty();
    }

    @Test
    void higherPriorityPreemptsAndTheLowerHoldersExecutionIsSignalled() {
        String resource = unique("user");
        String lowExecution = insertExecution();
        LockHolder sentinel = new LockHolder("sentinel", 3, lowExecution, "update_skills");
        LockHolder strategist = new LockHolder("strategist", 5, unique("exec"), "set_goals");
        LockHolder interviewer = new LockHolder("interviewer", 2, unique("exec"), "analyze");

        assertThat(locks.acquire(sentinel, new LockRequest("skills", resource, 60_000)).acquired()).isTrue();
        AcquireResult lower = locks.acquire(interviewer, new LockRequest("skills", resource, 60_000));
        AcquireResult equal = locks.acquire(new LockHolder("sentinel", 3, unique("exec"), "other"), new LockRequest("skills", resource, 60_000));
        AcquireResult higher = locks.acquire(strategist, new LockRequest("skills", resource, 60_000));

        assertThat(lower.acquired()).isFalse();
        assertThat(((AcquireResult.Blocked) lower).describe()).contains("lock skills/" + resource + " held by sentinel (priority 3, execution " + lowExecution);
        assertThat(equal.acquired()).isFalse();
        assertThat(higher.acquired()).isTrue();
        assertThat(((AcquireResult.Acquired) higher).preempted().executionId()).isEqualTo(lowExecution);
        assertThat(query("SELECT locked_by, execution_id FROM resource_locks WHERE resource_id = ?", resource))
                .containsExactly(Map.of("locked_by", "strategist", "execution_id", strategist.executionId()));

        List<Map<String, Object>> signals = query("SELECT step_id, signal_type, data::text AS data FROM execution_signals "
                + "WHERE execution_id = ?", lowExecution);
        assertThat(signals).hasSize(1);
        assertThat(signals.get(0).get("signal_type")).isEqualTo("LOCK_PREEMPTED");
        assertThat(signals.get(0).get("step_id")).isEqualTo("update_skills");
        assertThat((String) signals.get(0).get("data")).contains("\"by\": \"strategist\"")
                .contains("\"resource_id\": \"" + resource + "\"").contains("\"resource_type\": \"skills\"");
        assertThat(query("SELECT event FROM lock_events WHERE resource_id = ?", resource)).containsExactly(Map.of("event", "preempted"));

        // the preempted holder settling later does not release the new holder's lock
        assertThat(locks.releaseAll(lowExecution, "update_skills")).isZero();
        assertThat(locks.releaseAll(strategist.executionId(), "set_goals")).isEqualTo(1);
    }

    @Test
    void anExpiredLockOfADeadHolderIsFreeEvenForALowerPriority() {
        String resource = unique("dead");
        LockHolder dead = new LockHolder("strategist", 5, unique("exec"), "crashed");
        LockHolder action = new LockHolder("action", 1, unique("exec"), "notify");
        assertThat(locks.acquire(dead, new LockRequest("roadmap", resource, 50)).acquired()).isTrue();
        assertThat(locks.acquire(action, new LockRequest("roadmap", resource, 60_000)).acquired()).isFalse();

        await().atMost(5, TimeUnit.SECONDS).until(() -> locks.acquire(action, new LockRequest("roadmap", resource, 60_000)).acquired());

        assertThat(query("SELECT locked_by FROM resource_locks WHERE resource_id = ?", resource))
                .containsExactly(Map.of("locked_by", "action"));
        assertThat(query("SELECT 1 FROM lock_events WHERE resource_id = ?", resource)).isEmpty();
    }

    /**
     * Past its expiry, a lock stays with a holder whose step still runs (its heartbeat or reply may wait in the
     * broker while the attempt's timeout holds for it); once the step no longer runs (here: waiting for its
     * next attempt), the expiry frees it.
     */
    @Test
    void anExpiredLockStaysWithAHolderWhoseStepStillRuns() throws Exception {
        String resource = unique("running");
        String stepRow = lapsedLockOfAStep(resource, "running");
        LockHolder waiter = new LockHolder("architect", 4, unique("exec"), "other_update");

        AcquireResult blocked = locks.acquire(waiter, new LockRequest("roadmap", resource, 60_000));
        assertThat(blocked.acquired()).isFalse();
        assertThat(((AcquireResult.Blocked) blocked).describe()).contains("held by architect", "while its step runs, expired at");
        assertThat(query("SELECT locks::text AS l FROM (" + listLocks() + ") x").get(0).get("l").toString()).contains(resource);

        query("UPDATE workflow_step_executions SET status = 'pending', next_attempt_at = now() + interval '1 minute'"
                + " WHERE id = ? RETURNING id", stepRow);
        assertThat(locks.acquire(waiter, new LockRequest("roadmap", resource, 60_000)).acquired()).isTrue();
        assertThat(query("SELECT step_id FROM resource_locks WHERE resource_id = ?", resource))
                .containsExactly(Map.of("step_id", "other_update"));
        assertThat(query("SELECT 1 FROM lock_events WHERE resource_id = ?", resource)).as("no preemption: it had lapsed").isEmpty();
    }

    /**
     * A holder whose lock lapsed takes it again and marks its step running in one transaction (LockedStepStart), and
     * commits only after the renewed lock's ttl passed too, while a waiter's acquire waits for its lock row. The waiter
     * then judges the holder's step as it is once that commits (running: the lock stays in force), not as its statement's
     * snapshot from before it waited had it (pending: it took the lock, and two steps held one resource; V50).
     */
    @Test
    void aWaiterBlockedOnAHoldersRenewalSeesItsStepRunningOnceItCommits() throws Exception {
        String resource = unique("renewal");
        String stepRow = lapsedLockOfAStep(resource, "pending");
        String execution = (String) query("SELECT execution_id FROM workflow_step_executions WHERE id = ?", stepRow).get(0).get("execution_id");
        LockHolder holder = new LockHolder("architect", 4, execution, "update");
        LockHolder waiter = new LockHolder("architect", 4, unique("exec"), "other_update");

        ExecutorService pool = Executors.newSingleThreadExecutor();
        try (java.sql.Connection holding = TestCoordinator.shared().dataSource().getConnection()) {
            holding.setAutoCommit(false);
            int holdingPid;
            try (var pid = holding.createStatement().executeQuery("SELECT pg_backend_pid()")) {
                pid.next();
                holdingPid = pid.getInt(1);
            }
            AcquireResult renewed = locks.acquire(holding, holder, new LockRequest("roadmap", resource, 300));
            assertThat(renewed.acquired()).isTrue();
            try (var start = holding.prepareStatement("UPDATE workflow_step_executions SET status = 'running', attempt = 2 WHERE id = ?")) {
                start.setString(1, stepRow);
                assertThat(start.executeUpdate()).isEqualTo(1);
            }
            // the renewed lock lapses too before the holder commits: only its running step keeps it in force
            long lapsesAtMs = ((AcquireResult.Acquired) renewed).expiresAt().toEpochMilli();
            await().atMost(5, TimeUnit.SECONDS).until(() -> !query("SELECT 1 WHERE now() > to_timestamp(CAST(? AS bigint) / 1000.0)"
                    + " + interval '100 milliseconds'", lapsesAtMs).isEmpty());
            Future<AcquireResult> waiting = pool.submit(() -> locks.acquire(waiter, new LockRequest("roadmap", resource, 60_000)));
            await().atMost(5, TimeUnit.SECONDS).until(() -> !query("SELECT 1 FROM pg_stat_activity WHERE ? = ANY (pg_blocking_pids(pid))",
                    holdingPid).isEmpty());
            holding.commit();

            assertThat(waiting.get(10, TimeUnit.SECONDS).acquired()).as("the waiter took the lock of a running step").isFalse();
        } finally {
            pool.shutdownNow();
        }
        assertThat(query("SELECT execution_id FROM resource_locks WHERE resource_id = ?", resource))
                .containsExactly(Map.of("execution_id", execution));
    }

    /**
     * A step row of a new execution ({@code update}, in {@code status}) whose lock on roadmap/{@code resource} lapsed: its
     * row's id.
     */
    private static String lapsedLockOfAStep(String resource, String status) {
        String execution = insertExecution();
        String stepRow = UUID.randomUUID().toString();
        query("INSERT INTO workflow_step_executions (id, execution_id, step_id, agent, action, status, attempt, started_at, timeout_ms, deadline)"
                + " VALUES (?, ?, 'update', 'architect', 'adjust', ?, 1, now(), 60000, now() + interval '1 minute') RETURNING id",
                stepRow, execution, status);
        assertThat(locks.acquire(new LockHolder("architect", 4, execution, "update"), new LockRequest("roadmap", resource, 50)).acquired()).isTrue();
        await().atMost(5, TimeUnit.SECONDS).until(() -> !query("SELECT 1 FROM resource_locks WHERE resource_id = ? AND expires_at < now()",
                resource).isEmpty());
        return stepRow;
    }

    private static String listLocks() throws java.io.IOException {
        try (var in = ResourceLockStoreTest.class.getResourceAsStream("/sql/list-locks.sql")) {
            return new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        }
    }

    @Test
    void theSameHolderAskingAgainRenewsItsLock() {
        String resource = unique("renew");
        LockHolder holder = new LockHolder("action", 1, unique("exec"), "s");
        assertThat(locks.acquire(holder, new LockRequest("roadmap", resource, 60_000)).acquired()).isTrue();
        assertThat(locks.acquire(holder, new LockRequest("roadmap", resource, 60_000)).acquired()).isTrue();
        assertThat(query("SELECT count(*) AS n FROM resource_locks WHERE resource_id = ?", resource).get(0).get("n")).isEqualTo(1L);
    }

    @Test
    void prioritiesParseTheSettingAndRejectNonsense() {
        LockPriorities priorities = LockPriorities.specDefault();
        assertThat(priorities.of("strategist")).isEqualTo(5);
        assertThat(priorities.of("action")).isEqualTo(1);
        assertThat(priorities.of("somebody")).isZero();
        assertThat(LockPriorities.parse(" a:7 , b:-1 ").asMap()).containsExactly(Map.entry("a", 7), Map.entry("b", -1));
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> LockPriorities.parse("a:7,b"))
                .hasMessage("coordinator.locks.priorities: \"b\" is not agent:priority (e.g. architect:4)");
    }

    private static String insertExecution() {
        String id = UUID.randomUUID().toString();
        query("INSERT INTO workflow_executions (id, workflow_id, workflow_version, status) VALUES (?, 'lock_test', 1, 'running') RETURNING id", id);
        return id;
    }
}
