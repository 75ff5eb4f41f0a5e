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
import org.junit.jupiter.api.parallel.ResourceLock;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

import static dev.agentcoordinator.engine.ExecutionProbe.attempts;
import static dev.agentcoordinator.engine.ScriptedAgents.Reply;
import static dev.agentcoordinator.engine.TestCoordinator.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;
import static org.awaitility.Awaitility.await;

/** Steps that declare locks: they take them before dispatch, wait for them, and release them however they end. */
// Its methods run side by side (@Execution(CONCURRENT), junit-platform.properties): each waits for locks,
// sweeps and replies of its own users' executions; the two that start g_lock_wait take turns (one counts
// its dispatches).
class LockedStepTest {
    private static ScriptedAgents agents;
    private static ResourceLockStore locks;
    /** step id + user → the locks held (resource_type/resource_id) when the agent got the request. */
    private static final Map<String, List<String>> heldAtRequest = new ConcurrentHashMap<>();

    @BeforeAll
    static void agents() throws Exception {
        locks = new ResourceLockStore(shared().dataSource());
        agents = new ScriptedAgents(shared().connectionFactory()).agent("g-lock-architect", r -> {
            if (r.action().equals("prepare")) {
                return List.of(Reply.ok(Map.of("skill_set", "skills-of-" + r.request().path("execution_id").asText())));
            }
            heldAtRequest.put((r.action().startsWith("undo") ? "undo" : r.stepId()) + ":" + r.request().path("execution_id").asText(),
                    query("SELECT resource_type || '/' || resource_id AS r FROM resource_locks WHERE execution_id = ? ORDER BY 1",
                            r.request().path("execution_id").asText()).stream().map(row -> (String) row.get("r")).toList());
            if (r.action().equals("revise")) {   // iterations 0 and 1 unsatisfied; the third waits while the test looks
                return r.request().path("iteration").asInt() < 2 ? List.of(Reply.ok(Map.of("satisfied", false)))
                        : List.of(Reply.ok(Map.of("satisfied", true)).after(20_000));
            }
            if (r.action().equals("redraft")) {   // iteration 1 fails once, then is satisfied
                int iteration = r.request().path("iteration").asInt();
                if (iteration == 1 && r.request().path("attempt").asInt() == 1) {
                    return List.of(Reply.error("roadmap service busy", true));
                }
                return List.of(Reply.ok(Map.of("satisfied", iteration == 1, "text", "draft " + iteration)));
            }
            if (r.action().equals("write_note")) {   // writes the shared memory while the other branch backs off
                return List.of(new Reply(300, Json.write(Map.of("status", "ok", "output", Map.of(),
                        "shared_memory", Map.of("note", "written during the backoff"))), null));
            }
            if (r.action().equals("revise_slowly")) {   // iteration 0 takes a second, the next one is satisfied
                return r.request().path("iteration").asInt() == 0 ? List.of(Reply.ok(Map.of("satisfied", false)).after(1000))
                        : List.of(Reply.ok(Map.of("satisfied", true)));
            }
            if (r.action().equals("fail_later")) {   // its step's lock is released by then, and the test takes it
                return List.of(Reply.error("notification service down", false).after(1500));
            }
            if (r.action().equals("slow_prepare")) {
                return List.of(Reply.ok(Map.of("prepared", true)).after(3000));
            }
            if (r.action().equals("undo_busy_once") && r.request().path("attempt").asInt() == 1) {
                return List.of(Reply.error("roadmap service busy", true));
            }
            if (r.action().equals("busy_once") && r.request().path("attempt").asInt() == 1) {
                return List.of(Reply.error("roadmap service busy", true));
            }
            if (r.action().equals("flaky") && r.request().path("attempt").asInt() < 3) {
                return List.of(Reply.error("roadmap service busy (attempt " + r.request().path("attempt").asInt() + ")", true));
            }
            return r.action().equals("fail") ? List.of(Reply.error("roadmap service down", false)) : List.of(Reply.ok(Map.of("adjusted", true)));
        }).agent("g-lock-exclusive", LockedStepTest::exclusive)
                .agent("g-lock-slow-a", LockedStepTest::slowChange)
                .agent("g-lock-slow-b", LockedStepTest::slowChange)
                // a loop: its first iteration answers at once, the next ones change the roadmap slowly
                .agent("g-lock-slow-c", r -> r.request().path("iteration").asInt() == 0
                        ? List.of(Reply.ok(Map.of("satisfied", false))) : slowChange(r))
                .agent("g-lock-low", r -> List.of(Reply.ok(Map.of()).after(300)))
                .agent("g-lock-mid", r -> List.of(Reply.ok(Map.of()).after(300)));
    }

    /** Requests of g-lock-exclusive working on a resource right now, by user; and every time two were at once. */
    private static final Map<String, java.util.concurrent.atomic.AtomicInteger> working = new ConcurrentHashMap<>();
    private static final List<String> overlaps = new java.util.concurrent.CopyOnWriteArrayList<>();

    /** Changes a user's roadmap, or undoes a change, taking 60 ms; notices when another request works on it meanwhile. */
    private static List<Reply> exclusive(ScriptedAgents.Received r) {
        if (r.action().equals("notify")) {
            return List.of(r.input().path("fail").asBoolean() ? Reply.error("notification failed", false) : Reply.ok(Map.of()));
        }

        String user = r.input().path("user_id").asText();
        java.util.concurrent.atomic.AtomicInteger onIt = working.computeIfAbsent(user, u -> new java.util.concurrent.atomic.AtomicInteger());
        if (onIt.incrementAndGet() > 1) {
            overlaps.add(r.action() + " of " + user + " for execution " + r.request().path("execution_id").asText());
        }
        try {
            Thread.sleep(60);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            onIt.decrementAndGet();   // before the reply: the coordinator frees the lock only once it has it
        }
        return List.of(Reply.ok(Map.of("done", r.action())));
    }

    /** By user: change_slowly works on the roadmap until its latch opens (its request stays taken and unacknowledged). */
    private static final Map<String, java.util.concurrent.CountDownLatch> workOnRoadmap = new ConcurrentHashMap<>();

    /**
     * Changes a user's roadmap until the test lets it finish (a cancel cuts it off meanwhile), holding its listener: an
     * agent of the tests of one execution each, whose other requests the held listener may have fetched; or undoes a
     * change, noting the locks held then.
     */
    private static List<Reply> slowChange(ScriptedAgents.Received r) {
        if (r.action().equals("undo")) {
            String executionId = r.request().path("execution_id").asText();
            heldAtRequest.put("undo:" + executionId, query("SELECT resource_type || '/' || resource_id AS r FROM resource_locks"
                    + " WHERE execution_id = ? ORDER BY 1", executionId).stream().map(row -> (String) row.get("r")).toList());
            return List.of(Reply.ok(Map.of()));
        }
        try {
            workOnRoadmap.computeIfAbsent(r.input().path("user_id").asText(), u -> new java.util.concurrent.CountDownLatch(1))
                    .await(30, java.util.concurrent.TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return List.of(Reply.ok(Map.of("done", "change_slowly")));
    }

    /** The lock each preempting holder took, by user: the tests release it. */
    private static final Map<String, String> preemptions = new ConcurrentHashMap<>();

    /**
     * Starts G_LOCK_RETRY_WAIT for {@code user}; once its step failed its first attempt and waits for the next,
     * a holder of higher priority takes its lock, and the step waits for it again; the execution's id.
     */
    private static String retryWaitingForItsLockAgain(String user) {
        String eventId = sendEvent("G_LOCK_RETRY_WAIT", "{\"user_id\":\"" + user + "\"}");
        await().atMost(Duration.ofSeconds(20)).until(() -> executionOf(eventId) != null
                && waitingForNextAttempt(executionOf(eventId), "update"));
        String executionId = executionOf(eventId);
        AcquireResult.Acquired taken = (AcquireResult.Acquired) locks.acquire(
                new LockHolder("strategist", 9, "preempting-execution", "set_goals"), new LockRequest("roadmap", user, 60_000));
        preemptions.put(user, taken.lockId());
        await().atMost(Duration.ofSeconds(20)).until(() -> String.valueOf(query("SELECT waiting_for FROM workflow_step_executions"
                + " WHERE execution_id = ?", executionId).get(0).get("waiting_for")).startsWith("lock roadmap/" + user + " held by strategist"));
        return executionId;
    }

    @AfterAll
    static void stop() throws Exception {
        agents.close();
    }

    // counts the dispatches of g_lock_wait's step
    @ResourceLock("g_lock_wait")
    @Test
    @Execution(ExecutionMode.CONCURRENT)
    void aStepWaitsWhileAnotherExecutionHoldsItsLockAndRunsOnceReleased() throws Exception {
        String user = "u-" + UUID.randomUUID().toString().substring(0, 8);
        LockHolder other = new LockHolder("strategist", 5, "other-execution", "set_goals");
        AcquireResult.Acquired held = (AcquireResult.Acquired) locks.acquire(other, new LockRequest("roadmap", user, 60_000));

        String eventId = sendEvent("G_LOCK_WAIT", "{\"user_id\":\"" + user + "\"}");
        await().atMost(Duration.ofSeconds(20)).until(() -> executionOf(eventId) != null
                && query("SELECT 1 FROM workflow_step_executions WHERE execution_id = ? AND waiting_for IS NOT NULL", executionOf(eventId)).size() == 1);
        String executionId = executionOf(eventId);
        Map<String, Object> waiting = query("SELECT status, waiting_for, updated_at FROM workflow_step_executions WHERE execution_id = ?", executionId).get(0);
        assertThat(waiting.get("status")).isEqualTo("pending");
        assertThat((String) waiting.get("waiting_for")).startsWith("lock roadmap/" + user + " held by strategist (priority 5, execution other-execution, step set_goals)");

        String listed = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(shared().httpUrl() + "/api/locks")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
        assertThat(Json.parse(listed).path("locks").findValuesAsText("resource_id")).contains(user);
        // times in UTC as every view writes them (PostgreSQL's own text depends on the session's time zone), compact
        assertThat(Json.parse(listed).path("locks").findValuesAsText("locked_at")).allSatisfy(at -> assertThat(at).endsWith("Z"));
        assertThat(listed).doesNotContain("\": ");
        // the execution's view says what the step waits for
        com.fasterxml.jackson.databind.JsonNode step = Json.parse(HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create(shared().httpUrl() + "/api/executions/" + executionId)).build(), HttpResponse.BodyHandlers.ofString()).body())
                .path("steps").get(0);
        assertThat(step.path("waiting_for").asText()).startsWith("lock roadmap/" + user + " held by strategist");
        assertThat(step.path("waiting_since").isTextual()).isTrue();

        // the lock sweep tried again (the waiting note was rewritten) and it still waits; the agent has seen nothing
        await().atMost(Duration.ofSeconds(5)).until(() -> !waiting.get("updated_at").equals(
                query("SELECT updated_at FROM workflow_step_executions WHERE execution_id = ?", executionId).get(0).get("updated_at")));
        assertThat(query("SELECT status FROM workflow_step_executions WHERE execution_id = ?", executionId).get(0).get("status")).isEqualTo("pending");
        assertThat(agents.received().stream().filter(r -> r.request().path("execution_id").asText().equals(executionId))).isEmpty();
        assertThat(executionStatus(executionId)).isEqualTo("running");

        double dispatchedBefore = lockedStepsDispatched();
        assertThat(locks.release(held.lockId())).isTrue();

        await().atMost(Duration.ofSeconds(20)).until(() -> "completed".equals(executionStatus(executionId)));
        assertThat(heldAtRequest.get("adjust:" + executionId)).containsExactly("roadmap/" + user);
        // its start (over JDBC, with its lock) counts as a dispatch
        assertThat(lockedStepsDispatched()).isEqualTo(dispatchedBefore + 1);
        assertThat(query("SELECT 1 FROM resource_locks WHERE resource_id = ?", user)).isEmpty();
        assertThat(query("SELECT waiting_for FROM workflow_step_executions WHERE execution_id = ?", executionId).get(0).get("waiting_for")).isNull();
    }

    /** coordinator_steps_dispatched_total of g_lock_wait's locked step. */
    private static double lockedStepsDispatched() {
        io.micrometer.core.instrument.MeterRegistry meters = shared().camelContext().getRegistry()
                .lookupByNameAndType(dev.agentcoordinator.ops.Operations.METER_REGISTRY, io.micrometer.core.instrument.MeterRegistry.class);
        io.micrometer.core.instrument.Counter counter = meters.find("coordinator_steps_dispatched")
                .tags("workflow", "g_lock_wait", "step", "adjust").counter();
        return counter == null ? 0 : counter.count();
    }

    /**
     * Two steps wait for one lock, the lower priority's since first: when it comes free the higher one gets it,
     * and the lower one waits on. Tried in the order they began waiting, the lower one took it, had its request
     * sent, and lost the lock to the higher one a moment later, both agents then working on the resource at once.
     */
    @Test
    @Execution(ExecutionMode.CONCURRENT)
    void whenALockComesFreeTheHighestPriorityWaiterGetsIt() throws Exception {
        String user = "u-" + UUID.randomUUID().toString().substring(0, 8);
        AcquireResult.Acquired held = (AcquireResult.Acquired) locks.acquire(
                new LockHolder("strategist", 5, "holding-execution", "set_goals"), new LockRequest("roadmap", user, 60_000));
        String low = sendEvent("G_LOCK_ORDER_LOW", "{\"user_id\":\"" + user + "\"}");
        await().atMost(Duration.ofSeconds(20)).until(() -> executionOf(low) != null && query("SELECT 1 FROM workflow_step_executions"
                + " WHERE execution_id = ? AND waiting_for IS NOT NULL", executionOf(low)).size() == 1);
        String mid = sendEvent("G_LOCK_ORDER_MID", "{\"user_id\":\"" + user + "\"}");
        await().atMost(Duration.ofSeconds(20)).until(() -> executionOf(mid) != null && query("SELECT 1 FROM workflow_step_executions"
                + " WHERE execution_id = ? AND waiting_for IS NOT NULL", executionOf(mid)).size() == 1);
        // freed while no lock sweep runs, so that the next one finds both waiting (a sweep under way when the lock comes
        // free may still be trying the lower one, after it tried the higher: the order narrows that race, no more)
        org.apache.camel.spi.RouteController routes = shared().camelContext().getRouteController();
        routes.stopRoute("coordinator.locks.waiting");
        try {
            // the lower one tried longest ago: the statement's own order puts it first
            new org.springframework.jdbc.core.JdbcTemplate(shared().dataSource()).update("UPDATE workflow_step_executions"
                    + " SET updated_at = now() - interval '1 minute' WHERE execution_id = ?", executionOf(low));
            assertThat(locks.release(held.lockId())).isTrue();
        } finally {
            routes.startRoute("coordinator.locks.waiting");
        }

        await().atMost(Duration.ofSeconds(20)).until(() -> "completed".equals(executionStatus(executionOf(low))));
        assertThat(executionStatus(executionOf(mid))).isEqualTo("completed");
        assertThat(query("SELECT event, holder::text AS lost, taken_by::text AS taker, created_at FROM lock_events WHERE resource_id = ?", user)).isEmpty();
        ScriptedAgents.Received midRequest = agents.received().stream()
                .filter(r -> r.request().path("execution_id").asText().equals(executionOf(mid))).findFirst().orElseThrow();
        ScriptedAgents.Received lowRequest = agents.received().stream()
                .filter(r -> r.request().path("execution_id").asText().equals(executionOf(low))).findFirst().orElseThrow();
        assertThat(lowRequest.receivedAtNanos()).isGreaterThan(midRequest.receivedAtNanos() + java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(300));
    }

    @Test
    @Execution(ExecutionMode.CONCURRENT)
    void aStepThatWaitsLongerThanItsTimeoutFailsNamingTheLockAndItsHolder() {
        String user = "u-" + UUID.randomUUID().toString().substring(0, 8);
        AcquireResult.Acquired held = (AcquireResult.Acquired) locks.acquire(
                new LockHolder("architect", 4, "holding-execution", "adjust_roadmap"), new LockRequest("roadmap", user, 60_000));

        String eventId = sendEvent("G_LOCK_TIMEOUT", "{\"user_id\":\"" + user + "\"}");
        await().atMost(Duration.ofSeconds(20)).until(() -> "failed".equals(executionStatus(executionOf(eventId))));

        Map<String, Object> step = stepRow(executionOf(eventId), "adjust");
        assertThat(step.get("status")).isEqualTo("failed");
        assertThat((String) step.get("error")).isEqualTo("waited 400 ms (the step's timeout) for lock roadmap/" + user
                + " held by architect (priority 4, execution holding-execution, step adjust_roadmap) until " + held.expiresAt());
        assertThat(step.get("attempt")).isEqualTo(0);
        locks.release(held.lockId());
    }

    /** Starts an execution for {@code user} on {@code trigger} and waits until it ends, completed or failed; its id. */
    private static String endedExecution(String trigger, String user) {
        String eventId = sendEvent(trigger, "{\"user_id\":\"" + user + "\"}");
        // no row yet is not an end (List.contains(null) threw, failing the wait at once)
        await().atMost(Duration.ofSeconds(20)).until(() -> executionStatus(executionOf(eventId)),
                status -> "completed".equals(status) || "failed".equals(status));
        return executionOf(eventId);
    }

    /** The step before it allows one attempt; its own budget, three, is what its requests and retries go by. */
    /**
     * A retry of an execution that timed out while a step waited for a lock: the step waits again, its
     * wait timed from the retry, not from the wait the timeout ended (which would fail it at once).
     */
    @Test
    @Execution(ExecutionMode.CONCURRENT)
    void aStepThatWaitedForALockWhenItsExecutionTimedOutWaitsAfreshWhenTheExecutionIsRetried() {
        String user = "u-" + UUID.randomUUID().toString().substring(0, 8);
        AcquireResult.Acquired held = (AcquireResult.Acquired) locks.acquire(
                new LockHolder("strategist", 5, "holding-execution", "set_goals"), new LockRequest("roadmap", user, 60_000));
        // prepare takes 3 s, then adjust waits for the lock until the execution's timeout (7 s) ends the wait, some 3 s
        // before the step's own (7 s) would
        String executionId = ExecutionProbe.awaitExecution(sendEvent("G_LOCK_EXEC_TIMEOUT", "{\"user_id\":\"" + user + "\"}"), "failed");
        assertThat(stepRow(executionId, "prepare")).containsEntry("status", "completed");
        assertThat(stepRow(executionId, "adjust")).containsEntry("status", "skipped");
        // until the step's own timeout (7 s), counted from when it began to wait (before the execution's timeout ended
        // it), has passed too: a wait timed from that start would fail at once
        await().atMost(Duration.ofSeconds(40)).pollInterval(Duration.ofMillis(200)).until(() -> !query("SELECT 1 FROM workflow_step_executions"
                + " WHERE execution_id = ? AND step_id = 'adjust' AND updated_at < now() - interval '7 seconds'", executionId).isEmpty());

        assertThat(ExecutionProbe.post("/api/executions/" + executionId + "/retry", null).statusCode()).isEqualTo(202);
        // it waits again, since the retry (or it is no longer pending: failed at once, as having waited its timeout)
        await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(50)).until(() -> !query("SELECT 1 FROM workflow_step_executions s"
                + " JOIN workflow_executions e ON e.id = s.execution_id WHERE s.execution_id = ? AND s.step_id = 'adjust'"
                + " AND s.kind = 'step' AND (s.status <> 'pending' OR s.waiting_since >= e.retried_at)", executionId).isEmpty());
        assertThat(stepRow(executionId, "adjust")).containsEntry("status", "pending");
        assertThat(locks.release(held.lockId())).isTrue();
        await().atMost(Duration.ofSeconds(20)).until(() -> !"running".equals(executionStatus(executionId)));
        assertThat(executionStatus(executionId)).isEqualTo("completed");
        assertThat(heldAtRequest.get("adjust:" + executionId)).containsExactly("roadmap/" + user);
    }

    /** A step that ran an attempt and waits for its locks again ends failed when its execution is cancelled, not skipped. */
    @Test
    @Execution(ExecutionMode.CONCURRENT)
    void aStepWaitingForItsLocksAgainAfterAFailedAttemptFailsWhenItsExecutionIsCancelled() {
        String user = "u-" + UUID.randomUUID().toString().substring(0, 8);
        String executionId = retryWaitingForItsLockAgain(user);

        assertThat(ExecutionProbe.post("/api/executions/" + executionId + "/cancel", null).statusCode()).isEqualTo(200);
        assertThat(stepRow(executionId, "update")).containsEntry("status", "failed")
                .containsEntry("error", "execution cancelled by request");
        assertThat(locks.release(preemptions.remove(user))).isTrue();
    }

    /**
     * A retry carries the input of the attempt before, as a step without locks does, even when what its
     * input mapping reads has changed since (here the shared memory, written during the backoff).
     */
    @Test
    @Execution(ExecutionMode.CONCURRENT)
    void aRetriedStepWithLocksKeepsTheInputOfItsFirstAttempt() {
        String user = "u-" + UUID.randomUUID().toString().substring(0, 8);
        String executionId = ExecutionProbe.awaitExecution(sendEvent("G_LOCK_RETRY_INPUT", "{\"user_id\":\"" + user + "\"}"), "completed");
        List<ScriptedAgents.Received> attempts = ExecutionProbe.requests(agents, executionId, "locked_update");
        assertThat(attempts).hasSize(2);
        assertThat(attempts.get(0).input().has("note")).isFalse();
        assertThat(attempts.get(1).input()).isEqualTo(attempts.get(0).input());
        assertThat(query("SELECT shared_memory->>'note' AS note FROM workflow_executions WHERE id = ?", executionId))
                .extracting(r -> r.get("note")).containsExactly("written during the backoff");
    }

    @Test
    @Execution(ExecutionMode.CONCURRENT)
    void aStepWithLocksStartedByItsDependencyRetriesWithinItsOwnBudget() {
        String user = "u-" + UUID.randomUUID().toString().substring(0, 8);
        String executionId = endedExecution("G_LOCK_RETRY", user);
        assertThat(executionStatus(executionId)).isEqualTo("completed");

        assertThat(attempts(executionId, "flaky_update"))
                .extracting(r -> r.get("attempt"), r -> r.get("status"))
                .containsExactly(tuple(1, "failed"), tuple(2, "failed"), tuple(3, "completed"));
        assertThat(attempts(executionId, "flaky_update").get(0).get("error")).isEqualTo("roadmap service busy (attempt 1)");
        assertThat(query("SELECT 1 FROM resource_locks WHERE execution_id = ?", executionId)).isEmpty();
    }

    /**
     * A retry takes the step's locks again before its attempt starts: here another holder took the lock during
     * the backoff (a preemption), so the retry waits for it as the first attempt would have.
     */
    @Test
    @Execution(ExecutionMode.CONCURRENT)
    void aRetryWaitsForTheLocksItsStepLostDuringTheBackoff() throws Exception {
        String user = "u-" + UUID.randomUUID().toString().substring(0, 8);
        String executionId = retryWaitingForItsLockAgain(user);
        assertThat(stepRow(executionId, "update")).containsEntry("status", "pending").containsEntry("attempt", 1);
        assertThat(agents.received().stream().filter(r -> r.request().path("execution_id").asText().equals(executionId)))
                .hasSize(1);   // attempt 1 only

        assertThat(locks.release(preemptions.remove(user))).isTrue();
        await().atMost(Duration.ofSeconds(20)).until(() -> "completed".equals(executionStatus(executionId)));
        assertThat(heldAtRequest.get("update:" + executionId)).containsExactly("roadmap/" + user);
        assertThat(attempts(executionId, "update")).extracting(r -> r.get("attempt"), r -> r.get("status"))
                .containsExactly(tuple(1, "failed"), tuple(2, "completed"));
        assertThat(query("SELECT 1 FROM resource_locks WHERE resource_id = ?", user)).isEmpty();
    }

    /** A loop's later iteration, retried, takes its locks again and keeps the input its previous iteration's feedback gave it. */
    @Test
    @Execution(ExecutionMode.CONCURRENT)
    void aRetriedLoopIterationKeepsItsInputAndTakesItsLocksAgain() {
        String user = "u-" + UUID.randomUUID().toString().substring(0, 8);
        String executionId = endedExecution("G_LOCK_LOOP_RETRY", user);
        assertThat(executionStatus(executionId)).isEqualTo("completed");

        List<ScriptedAgents.Received> iterationOne = agents.received().stream()
                .filter(r -> r.request().path("execution_id").asText().equals(executionId) && r.request().path("iteration").asInt() == 1)
                .toList();
        assertThat(iterationOne).extracting(r -> r.request().path("attempt").asInt()).containsExactly(1, 2);
        assertThat(iterationOne).allSatisfy(r -> {
            assertThat(r.input().path("draft").asText()).isEqualTo("draft 0");
            assertThat(r.input().path("topic").asText()).isEqualTo(user);
        });
        assertThat(heldAtRequest.get("redraft:" + executionId)).containsExactly("roadmap/" + user);
        assertThat(query("SELECT 1 FROM resource_locks WHERE resource_id = ?", user)).isEmpty();
    }

    /** Each iteration of a loop renews its locks for their ttl_ms, as each attempt of a step does. */
    /**
     * A loop whose lock a holder of higher priority takes during an iteration does not start the next
     * one without it: the next iteration waits for its locks, and runs holding them once they are free.
     */
    @Test
    @Execution(ExecutionMode.CONCURRENT)
    void aLoopThatLostItsLockDuringAnIterationWaitsForItBeforeTheNext() {
        String user = "u-" + UUID.randomUUID().toString().substring(0, 8);
        String eventId = sendEvent("G_LOCK_LOOP_LOST", "{\"user_id\":\"" + user + "\"}");
        await().atMost(Duration.ofSeconds(20)).until(() -> executionOf(eventId) != null
                && heldAtRequest.containsKey("revise:" + executionOf(eventId)));
        String executionId = executionOf(eventId);
        AcquireResult.Acquired taken = (AcquireResult.Acquired) locks.acquire(
                new LockHolder("strategist", 9, "preempting-execution", "set_goals"), new LockRequest("roadmap", user, 60_000));
        assertThat(taken.preempted()).isNotNull();

        await().atMost(Duration.ofSeconds(10)).until(() -> String.valueOf(query("SELECT waiting_for FROM workflow_step_executions"
                + " WHERE execution_id = ? AND iteration = 1", executionId).stream().findFirst().map(r -> r.get("waiting_for")).orElse(null))
                .startsWith("lock roadmap/" + user + " held by strategist"));
        assertThat(ExecutionProbe.requests(agents, executionId, "revise")).hasSize(1);

        assertThat(locks.release(taken.lockId())).isTrue();
        await().atMost(Duration.ofSeconds(20)).until(() -> "completed".equals(executionStatus(executionId)));
        assertThat(ExecutionProbe.requests(agents, executionId, "revise")).extracting(r -> r.request().path("iteration").asInt())
                .containsExactly(0, 1);
        assertThat(heldAtRequest.get("revise:" + executionId)).containsExactly("roadmap/" + user);
    }

    @Test
    @Execution(ExecutionMode.CONCURRENT)
    void aLoopRenewsItsLocksWithEachIteration() throws Exception {
        String user = "u-" + UUID.randomUUID().toString().substring(0, 8);
        String eventId = sendEvent("G_LOCK_LOOP", "{\"user_id\":\"" + user + "\"}");
        await().atMost(Duration.ofSeconds(20)).until(() -> executionOf(eventId) != null && query(
                "SELECT 1 FROM workflow_step_executions WHERE execution_id = ? AND iteration = 2 AND status = 'running'",
                executionOf(eventId)).size() == 1);
        String executionId = executionOf(eventId);

        // the statement that started the third iteration renewed the lock: the same now() in both
        assertThat(query("SELECT l.expires_at = s.started_at + l.ttl_ms * interval '1 millisecond' AS renewed"
                + " FROM resource_locks l JOIN workflow_step_executions s ON s.execution_id = l.execution_id"
                + " AND s.step_id = l.step_id AND s.iteration = 2 WHERE l.execution_id = ?", executionId))
                .extracting(row -> row.get("renewed")).containsExactly(true);

        HttpResponse<String> cancelled = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create(shared().httpUrl() + "/api/executions/" + executionId + "/cancel"))
                .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(cancelled.statusCode()).isEqualTo(200);
        // kept for the third iteration's attempt, which the cancel cut off while its agent works (V49)
        assertThat(query("SELECT cut_off_attempt FROM resource_locks WHERE execution_id = ?", executionId))
                .extracting(row -> row.get("cut_off_attempt")).containsExactly(1);
    }

    /**
     * Two lock entries that name one resource in this execution take one lock, which each iteration renews: no
     * iteration waits for the lock sweep (each is started by the reply that completed the one before, its
     * dispatched_by), and the lock is never given up in between.
     */
    @Test
    @Execution(ExecutionMode.CONCURRENT)
    void aLoopWhoseTwoLockEntriesNameOneResourceKeepsItsLockAcrossIterations() throws Exception {
        String user = "u-" + UUID.randomUUID().toString().substring(0, 8);
        String eventId = sendEvent("G_LOCK_LOOP_TWICE", "{\"user_id\":\"" + user + "\", \"owner_id\":\"" + user + "\"}");
        await().atMost(Duration.ofSeconds(20)).until(() -> executionOf(eventId) != null && query(
                "SELECT 1 FROM workflow_step_executions WHERE execution_id = ? AND iteration = 2 AND status = 'running'",
                executionOf(eventId)).size() == 1);
        String executionId = executionOf(eventId);

        assertThat(query("SELECT iteration, dispatched_by IS NOT NULL AS by_reply, lock_count FROM workflow_step_executions"
                + " WHERE execution_id = ? AND iteration > 0 ORDER BY iteration", executionId))
                .extracting(row -> row.get("iteration"), row -> row.get("by_reply"), row -> ((Number) row.get("lock_count")).intValue())
                .containsExactly(tuple(1, true, 1), tuple(2, true, 1));
        // one lock, held for the longer ttl of the two entries
        assertThat(query("SELECT resource_id, ttl_ms FROM resource_locks WHERE execution_id = ?", executionId))
                .extracting(row -> row.get("resource_id"), row -> ((Number) row.get("ttl_ms")).longValue())
                .containsExactly(tuple(user, 30_000L));

        HttpResponse<String> cancelled = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create(shared().httpUrl() + "/api/executions/" + executionId + "/cancel"))
                .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(cancelled.statusCode()).isEqualTo(200);
    }

    @Test
    @Execution(ExecutionMode.CONCURRENT)
    void locksAreReleasedWhenTheStepFails() {
        String user = "u-" + UUID.randomUUID().toString().substring(0, 8);
        String eventId = sendEvent("G_LOCK_FAIL", "{\"user_id\":\"" + user + "\"}");
        await().atMost(Duration.ofSeconds(20)).until(() -> "failed".equals(executionStatus(executionOf(eventId))));
        String executionId = executionOf(eventId);

        assertThat(heldAtRequest.get("update:" + executionId))
                .containsExactly("roadmap/" + user, "skills/skills-of-" + executionId);
        assertThat((String) stepRow(executionId, "update").get("error")).endsWith("roadmap service down");
        assertThat(query("SELECT 1 FROM resource_locks WHERE execution_id = ?", executionId)).isEmpty();
    }

    /** A lock's resource id longer than the lock table holds fails the step, naming the lock; it failed every delivery. */
    // starts g_lock_wait too
    @ResourceLock("g_lock_wait")
    @Test
    @Execution(ExecutionMode.CONCURRENT)
    void aResourceIdTooLongToLockFailsTheStepNamingTheLock() {
        String user = "u".repeat(300);
        String executionId = ExecutionProbe.awaitExecution(sendEvent("G_LOCK_WAIT", "{\"user_id\":\"" + user + "\"}"), "failed");
        assertThat(stepRow(executionId, "adjust")).containsEntry("status", "failed");
        assertThat((String) stepRow(executionId, "adjust").get("error"))
                .isEqualTo("locks[0] (roadmap): resource_id from_trigger user_id is 300 characters long in this execution, at most 255");
    }

    /**
     * A compensation takes the locks of the step it undoes: while another holder has the resource, the undo waits
     * pending (its execution's view says for what) and is not sent; once the lock is free it runs holding it, and
     * releases it when it settles. It used to run beside the holder.
     */
    @Test
    @Execution(ExecutionMode.CONCURRENT)
    void aCompensationWaitsForTheLocksOfTheStepItUndoesAndRunsHoldingThem() throws Exception {
        String user = "u-" + UUID.randomUUID().toString().substring(0, 8);
        String eventId = sendEvent("G_LOCK_UNDO", "{\"user_id\":\"" + user + "\"}");
        await().atMost(Duration.ofSeconds(20)).until(() -> executionOf(eventId) != null
                && "completed".equals(stepRow(executionOf(eventId), "change").get("status")));
        String executionId = executionOf(eventId);
        // the step released its lock as it completed; another execution's step takes the resource before the undo
        AcquireResult.Acquired held = (AcquireResult.Acquired) locks.acquire(
                new LockHolder("strategist", 5, "other-execution", "set_goals"), new LockRequest("roadmap", user, 60_000));

        await().atMost(Duration.ofSeconds(20)).until(() -> "compensating".equals(executionStatus(executionId))
                && query("SELECT 1 FROM workflow_step_executions WHERE execution_id = ? AND kind = 'compensation'"
                + " AND waiting_for IS NOT NULL", executionId).size() == 1);
        com.fasterxml.jackson.databind.JsonNode compensation = Json.parse(HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create(shared().httpUrl() + "/api/executions/" + executionId)).build(), HttpResponse.BodyHandlers.ofString()).body())
                .path("compensations").get(0);
        assertThat(compensation.path("status").asText()).isEqualTo("pending");
        assertThat(compensation.path("waiting_for").asText())
                .startsWith("lock roadmap/" + user + " held by strategist (priority 5, execution other-execution, step set_goals)");
        // the lock sweep tries again and it still waits: no undo was sent
        Object triedAt = query("SELECT updated_at FROM workflow_step_executions WHERE execution_id = ? AND kind = 'compensation'",
                executionId).get(0).get("updated_at");
        await().atMost(Duration.ofSeconds(5)).until(() -> !triedAt.equals(query("SELECT updated_at FROM workflow_step_executions"
                + " WHERE execution_id = ? AND kind = 'compensation'", executionId).get(0).get("updated_at")));
        assertThat(ExecutionProbe.requests(agents, executionId, "change")).extracting(r -> r.action()).containsExactly("adjust");

        assertThat(locks.release(held.lockId())).isTrue();
        await().atMost(Duration.ofSeconds(20)).until(() -> "compensated".equals(executionStatus(executionId)));
        assertThat(heldAtRequest.get("undo:" + executionId)).as("held by the undo when its agent got it").containsExactly("roadmap/" + user);
        assertThat(query("SELECT 1 FROM resource_locks WHERE resource_id = ?", user)).as("released as it settled").isEmpty();
        assertThat(ExecutionProbe.requests(agents, executionId, "change")).extracting(r -> r.action()).containsExactly("adjust", "undo");
    }

    /**
     * A cancel cuts off a step's attempt while its agent works on the locked resource: the lock is kept until that agent
     * replies (V49), so another execution's step on the resource waits for it rather than starting beside it. Before,
     * the cancel released the lock at once, and the other step's request reached its agent while the first still worked.
     */
    @Test
    @Execution(ExecutionMode.CONCURRENT)
    void aLockIsKeptForTheAttemptACancelCutOffUntilItsAgentReplies() throws Exception {
        String user = "u-" + UUID.randomUUID().toString().substring(0, 8);
        String cutOff = cutOffWhileItsAgentWorks("G_LOCK_CUT_OFF", user, "cancelled");

        String next = sendEvent("G_LOCK_CUT_OFF", "{\"user_id\":\"" + user + "\"}");
        long workDone = finishWorkAfterTheNextWaits(next, user);
        await().atMost(Duration.ofSeconds(30)).until(() -> "completed".equals(executionStatus(executionOf(next))));
        ScriptedAgents.Received nextRequest = ExecutionProbe.requests(agents, executionOf(next), "change").get(0);
        assertThat(nextRequest.receivedAtNanos()).as("the next holder's request reached its agent after the cut-off attempt's work")
                .isGreaterThan(workDone);
        // the reply that freed it is recorded as a reply after the cancel
        assertThat(query("SELECT reason FROM ignored_replies WHERE execution_id = ?", cutOff)).hasSize(1);
        assertThat(query("SELECT 1 FROM resource_locks WHERE resource_id = ?", user)).isEmpty();
    }

    /**
     * As above, for a step with a compensation: its compensation is held for the cut-off attempt's reply (V47); that
     * reply reports the work done, and the undo runs holding the lock kept since, before the next holder gets it.
     */
    @Test
    @Execution(ExecutionMode.CONCURRENT)
    void aLockKeptForACutOffAttemptPassesToItsUndoBeforeAnyOtherHolder() throws Exception {
        String user = "u-" + UUID.randomUUID().toString().substring(0, 8);
        String cutOff = cutOffWhileItsAgentWorks("G_LOCK_CUT_OFF_UNDO", user, "compensating");

        String next = sendEvent("G_LOCK_CUT_OFF_UNDO", "{\"user_id\":\"" + user + "\"}");
        finishWorkAfterTheNextWaits(next, user);
        await().atMost(Duration.ofSeconds(30)).until(() -> "compensated".equals(executionStatus(cutOff))
                && "completed".equals(executionStatus(executionOf(next))));
        List<ScriptedAgents.Received> cutOffRequests = ExecutionProbe.requests(agents, cutOff, "change");
        assertThat(cutOffRequests).extracting(ScriptedAgents.Received::action).containsExactly("change_slowly", "undo");
        ScriptedAgents.Received nextRequest = ExecutionProbe.requests(agents, executionOf(next), "change").get(0);
        assertThat(nextRequest.receivedAtNanos()).as("the next holder's request came after the undo's")
                .isGreaterThan(cutOffRequests.get(1).receivedAtNanos());
        assertThat(heldAtRequest.get("undo:" + cutOff)).as("held by the undo when its agent got it").containsExactly("roadmap/" + user);
        assertThat(query("SELECT 1 FROM resource_locks WHERE resource_id = ?", user)).isEmpty();
    }

    /**
     * A cut-off attempt whose request no agent had taken (it is taken back off the queue at the cancel): nobody works on
     * the resource, so the lock is free at once, not at the attempt's deadline (30 s).
     */
    @Test
    @Execution(ExecutionMode.CONCURRENT)
    void aLockOfACutOffAttemptWhoseRequestWasTakenBackIsFreeAtOnce() throws Exception {
        String user = "u-" + UUID.randomUUID().toString().substring(0, 8);
        String eventId = sendEvent("G_LOCK_CUT_OFF_QUEUED", "{\"user_id\":\"" + user + "\"}");
        await().atMost(Duration.ofSeconds(20)).until(() -> executionOf(eventId) != null
                && "running".equals(stepRow(executionOf(eventId), "change").get("status")));
        // on the queue (its send commits after its step's row): the cancel takes it back
        await().atMost(Duration.ofSeconds(10)).until(() -> !ExecutionProbe.queuedCorrelationIds("agent.g-lock-unattended").isEmpty());
        assertThat(ExecutionProbe.post("/api/executions/" + executionOf(eventId) + "/cancel", null).statusCode()).isEqualTo(200);

        // kept for the attempt, it would stay until its deadline (30 s): the request taken back frees it
        await().atMost(Duration.ofSeconds(10)).until(() -> query("SELECT 1 FROM resource_locks WHERE resource_id = ?", user).isEmpty());
    }

    /**
     * An operator frees by hand the lock kept for an attempt a cancel cut off (its agent known gone), rather than wait
     * for the attempt's deadline; not the lock of a step that runs (its agent works under it), and not twice.
     */
    @Test
    @Execution(ExecutionMode.CONCURRENT)
    void aLockKeptForACutOffAttemptCanBeReleasedByHandButNotOneWhoseStepRuns() throws Exception {
        String user = "u-" + UUID.randomUUID().toString().substring(0, 8);
        String eventId = sendEvent("G_LOCK_CUT_OFF", "{\"user_id\":\"" + user + "\"}");
        await().atMost(Duration.ofSeconds(20)).until(() -> executionOf(eventId) != null
                && !ExecutionProbe.requests(agents, executionOf(eventId), "change").isEmpty());
        String executionId = executionOf(eventId);
        String lockId = (String) query("SELECT id FROM resource_locks WHERE resource_id = ?", user).get(0).get("id");
        try {
            HttpResponse<String> whileItRuns = ExecutionProbe.delete("/api/locks/" + lockId);
            assertThat(whileItRuns.statusCode()).isEqualTo(409);
            assertThat(Json.parse(whileItRuns.body()).path("error").asText()).isEqualTo("lock " + lockId + " is held by step change of execution "
                    + executionId + ", which runs: its agent works on the resource under it; cancel the execution first");

            assertThat(ExecutionProbe.post("/api/executions/" + executionId + "/cancel", null).statusCode()).isEqualTo(200);
            HttpResponse<String> released = ExecutionProbe.delete("/api/locks/" + lockId);
            assertThat(released.statusCode()).isEqualTo(200);
            assertThat(Json.parse(released.body()).path("released").asBoolean()).isTrue();
            assertThat(query("SELECT 1 FROM resource_locks WHERE resource_id = ?", user)).isEmpty();
            assertThat(query("SELECT event, holder->>'cut_off_attempt' AS cut_off, taken_by->>'by' AS by FROM lock_events WHERE resource_id = ?", user))
                    .extracting(row -> row.get("event"), row -> row.get("cut_off"), row -> row.get("by")).containsExactly(tuple("released", "1", "hand"));
            assertThat(ExecutionProbe.delete("/api/locks/" + lockId).statusCode()).isEqualTo(404);
        } finally {
            workOnRoadmap.computeIfAbsent(user, u -> new java.util.concurrent.CountDownLatch(1)).countDown();
        }
    }

    /**
     * A lock kept for a cut-off attempt whose agent was never heard from lapses at the attempt's deadline, and its row
     * goes with the hold sweep (it stayed, not in force and not listed, until its resource was taken again).
     */
    @Test
    @Execution(ExecutionMode.CONCURRENT)
    void aLockKeptForACutOffAttemptThatLapsedIsDeleted() throws Exception {
        String user = "u-" + UUID.randomUUID().toString().substring(0, 8);
        try {
            cutOffWhileItsAgentWorks("G_LOCK_CUT_OFF", user, "cancelled");
            // as if its deadline had passed (30 s), past the hold for queued replies too
            query("UPDATE resource_locks SET expires_at = now() - interval '1 hour' WHERE resource_id = ? RETURNING 1", user);
            await().atMost(Duration.ofSeconds(10)).until(() -> query("SELECT 1 FROM resource_locks WHERE resource_id = ?", user).isEmpty());
        } finally {
            workOnRoadmap.computeIfAbsent(user, u -> new java.util.concurrent.CountDownLatch(1)).countDown();
        }
    }

    /**
     * A loop's rows each count their attempts from 1: a late or duplicate reply of an earlier iteration names the attempt
     * number of the iteration a cancel cut off. It does not free the lock kept for that iteration, whose agent still
     * works (it did, and another execution's step started on the resource beside it); that iteration's own reply does.
     */
    @Test
    @Execution(ExecutionMode.CONCURRENT)
    void aDuplicateReplyOfAnEarlierIterationDoesNotFreeTheLockKeptForTheCutOffOne() throws Exception {
        String user = "u-" + UUID.randomUUID().toString().substring(0, 8);
        String eventId = sendEvent("G_LOCK_CUT_OFF_LOOP", "{\"user_id\":\"" + user + "\"}");
        await().atMost(Duration.ofSeconds(20)).until(() -> executionOf(eventId) != null
                && ExecutionProbe.requests(agents, executionOf(eventId), "change").size() == 2);
        String executionId = executionOf(eventId);
        assertThat(ExecutionProbe.post("/api/executions/" + executionId + "/cancel", null).statusCode()).isEqualTo(200);

        ExecutionProbe.sendReply(ExecutionProbe.requests(agents, executionId, "change").get(0).correlationId(),
                "{\"status\": \"ok\", \"output\": {\"satisfied\": false}}");
        await().atMost(Duration.ofSeconds(10)).until(() -> !query("SELECT 1 FROM ignored_replies WHERE execution_id = ?", executionId).isEmpty());
        assertThat(query("SELECT cut_off_attempt FROM resource_locks WHERE resource_id = ?", user))
                .as("kept for iteration 1's attempt, whose agent still works").extracting(row -> row.get("cut_off_attempt")).containsExactly(1);

        workOnRoadmap.computeIfAbsent(user, u -> new java.util.concurrent.CountDownLatch(1)).countDown();
        await().atMost(Duration.ofSeconds(10)).until(() -> query("SELECT 1 FROM resource_locks WHERE resource_id = ?", user).isEmpty());
    }

    /**
     * Once the execution of event {@code next} waits for the lock of {@code user}'s roadmap, lets the agent working on it
     * (the attempt cut off) finish and reply; when that was (System.nanoTime).
     */
    private static long finishWorkAfterTheNextWaits(String next, String user) {
        await().atMost(Duration.ofSeconds(20)).until(() -> executionOf(next) != null && String.valueOf(query("SELECT waiting_for"
                + " FROM workflow_step_executions WHERE execution_id = ?", executionOf(next)).get(0).get("waiting_for"))
                .startsWith("lock roadmap/" + user + " held by g-lock-slow-"));
        long done = System.nanoTime();
        workOnRoadmap.get(user).countDown();
        return done;
    }

    /**
     * Starts {@code trigger} for {@code user}, cancels the execution while its agent works on step change's attempt
     * (change_slowly), and checks the lock is kept for that attempt, until its deadline at most; the execution's id.
     */
    private static String cutOffWhileItsAgentWorks(String trigger, String user, String statusAfterCancel) throws Exception {
        String eventId = sendEvent(trigger, "{\"user_id\":\"" + user + "\"}");
        await().atMost(Duration.ofSeconds(20)).until(() -> executionOf(eventId) != null
                && !ExecutionProbe.requests(agents, executionOf(eventId), "change").isEmpty());
        String executionId = executionOf(eventId);
        Object deadline = query("SELECT deadline FROM workflow_step_executions WHERE execution_id = ?", executionId).get(0).get("deadline");
        HttpResponse<String> cancelled = ExecutionProbe.post("/api/executions/" + executionId + "/cancel", null);
        assertThat(cancelled.statusCode()).isEqualTo(200);
        assertThat(Json.parse(cancelled.body()).path("status").asText()).isEqualTo(statusAfterCancel);

        assertThat(query("SELECT cut_off_attempt, expires_at FROM resource_locks WHERE resource_id = ?", user))
                .extracting(row -> row.get("cut_off_attempt"), row -> row.get("expires_at")).containsExactly(tuple(1, deadline));
        com.fasterxml.jackson.databind.JsonNode listed = Json.parse(HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create(shared().httpUrl() + "/api/locks")).build(), HttpResponse.BodyHandlers.ofString()).body()).path("locks");
        assertThat(java.util.stream.StreamSupport.stream(listed.spliterator(), false)
                .filter(lock -> lock.path("resource_id").asText().equals(user)))
                .extracting(lock -> lock.path("execution_id").asText(), lock -> lock.path("cut_off_attempt").asInt())
                .containsExactly(tuple(executionId, 1));
        return executionId;
    }

    /**
     * Executions of two users, half of whose notifications fail, change each user's roadmap and undo their changes:
     * an undo takes the roadmap's lock as the change did, so no two requests ever work on one roadmap at once.
     */
    @Test
    @Execution(ExecutionMode.CONCURRENT)
    void changesAndUndosOfOneResourceNeverRunAtOnce() {
        String run = UUID.randomUUID().toString().substring(0, 8);
        List<String> events = java.util.stream.IntStream.range(0, 16).mapToObj(i -> sendEvent("G_LOCK_EXCLUSIVE",
                "{\"user_id\":\"x-" + run + "-" + (i % 2) + "\",\"fail\":" + (i % 4 < 2) + "}")).toList();
        await().atMost(Duration.ofSeconds(60)).until(() -> events.stream().allMatch(e -> List.of("completed", "compensated")
                .contains(executionStatus(executionOf(e)))));
        assertThat(overlaps).as("requests that worked on one roadmap at once").filteredOn(o -> o.contains(run)).isEmpty();
        Map<String, Long> byStatus = events.stream().collect(java.util.stream.Collectors.groupingBy(
                e -> executionStatus(executionOf(e)), java.util.stream.Collectors.counting()));
        assertThat(byStatus).containsEntry("completed", 8L).containsEntry("compensated", 8L);
        assertThat(agents.received().stream().filter(r -> r.action().equals("undo") && r.input().path("user_id").asText().contains(run)))
                .hasSize(8);
        assertThat(query("SELECT 1 FROM resource_locks WHERE resource_id LIKE ?", "x-" + run + "%")).isEmpty();
    }

    /** A compensation with locks whose attempt fails and is retried takes them again for its next attempt. */
    @Test
    @Execution(ExecutionMode.CONCURRENT)
    void aRetriedCompensationTakesTheLocksOfItsStepAgain() {
        String user = "u-" + UUID.randomUUID().toString().substring(0, 8);
        String executionId = ExecutionProbe.awaitExecution(sendEvent("G_LOCK_UNDO_RETRY", "{\"user_id\":\"" + user + "\"}"), "compensated");
        assertThat(query("SELECT attempt, status FROM workflow_step_executions WHERE execution_id = ? AND kind = 'compensation'",
                executionId).get(0)).containsEntry("attempt", 2).containsEntry("status", "completed");
        assertThat(ExecutionProbe.requests(agents, executionId, "change")).extracting(r -> r.action() + ":" + r.request().path("attempt").asInt())
                .containsExactly("adjust:1", "undo_busy_once:1", "undo_busy_once:2");
        assertThat(heldAtRequest.get("undo:" + executionId)).as("held by the second attempt").containsExactly("roadmap/" + user);
        assertThat(query("SELECT 1 FROM resource_locks WHERE resource_id = ?", user)).isEmpty();
    }

    /** A compensation that waits for its step's locks longer than its own timeout fails, naming the lock and its holder. */
    @Test
    @Execution(ExecutionMode.CONCURRENT)
    void aCompensationThatWaitsForItsLocksLongerThanItsTimeoutFailsNamingThem() {
        String user = "u-" + UUID.randomUUID().toString().substring(0, 8);
        String eventId = sendEvent("G_LOCK_UNDO_TIMEOUT", "{\"user_id\":\"" + user + "\"}");
        await().atMost(Duration.ofSeconds(20)).until(() -> executionOf(eventId) != null
                && "completed".equals(stepRow(executionOf(eventId), "change").get("status")));
        String executionId = executionOf(eventId);
        AcquireResult.Acquired held = (AcquireResult.Acquired) locks.acquire(
                new LockHolder("architect", 4, "holding-execution", "adjust_roadmap"), new LockRequest("roadmap", user, 60_000));

        await().atMost(Duration.ofSeconds(20)).until(() -> "compensation_failed".equals(executionStatus(executionId)));
        Map<String, Object> compensation = query("SELECT status, error FROM workflow_step_executions WHERE execution_id = ?"
                + " AND kind = 'compensation'", executionId).get(0);
        assertThat(compensation.get("status")).isEqualTo("failed");
        assertThat((String) compensation.get("error")).isEqualTo("waited 400 ms (the compensation's timeout) for lock roadmap/" + user
                + " held by architect (priority 4, execution holding-execution, step adjust_roadmap) until " + held.expiresAt());
        assertThat(ExecutionProbe.requests(agents, executionId, "change")).extracting(r -> r.action()).containsExactly("adjust");
        assertThat(locks.release(held.lockId())).as("the holder's lock stays its own").isTrue();
    }

    /**
     * A step that fails at its start because it cannot name its lock settles the execution, which compensates:
     * the compensation's request is sent, and the failed step sends nothing (its start used to go on to the
     * dispatch with what the compensation left, and throw, which took the compensation's request back).
     */
    @Test
    @Execution(ExecutionMode.CONCURRENT)
    void aStepThatCannotNameItsLockFailsAndTheCompensationOfTheStepBeforeRuns() {
        String eventId = sendEvent("G_LOCK_SAGA", "{}");
        String executionId = ExecutionProbe.awaitExecution(eventId, "compensated");
        assertThat(stepRow(executionId, "adjust")).containsEntry("status", "failed");
        assertThat((String) stepRow(executionId, "adjust").get("error")).contains("no_such_key");
        assertThat(ExecutionProbe.requests(agents, executionId, "prepare")).extracting(r -> r.action())
                .containsExactly("prepare", "unprepare");
        assertThat(ExecutionProbe.requests(agents, executionId, "adjust")).isEmpty();
    }
}
