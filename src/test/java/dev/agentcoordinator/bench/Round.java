package dev.agentcoordinator.bench;

import jakarta.jms.JMSException;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * One round of the load benchmarks against one forked coordinator: floor, step throughput, dispatch
 * latency (and the floor's latency at the same rate), fan-out, waiting. Each adds its figures to
 * {@link Results}.
 */
final class Round {
    /** Executions (or floor tokens) in flight during the throughput benchmarks. */
    static final int IN_FLIGHT = 64;
    /** The coordinator's default number of reply consumers, JMS pool connections and DB pool size. */
    static final int CONSUMERS = 8;
    static final int POOL_CONNECTIONS = 4;
    static final int DB_POOL = 10;
    private static final String RUNNING_INTERVIEWS =
            "SELECT count(*) FROM workflow_executions WHERE workflow_id = 'bench_interview' AND status = 'running'";

    private final CoordinatorProcess coordinator;
    private final BenchAgents agents;
    private final EventSender events;
    private final Db db;
    private final Results results;
    private final Set<String> only;
    private final int waitingExecutions;
    private final AtomicLong eventNumber = new AtomicLong();

    Round(CoordinatorProcess coordinator, BenchAgents agents, EventSender events, Db db, Results results,
          Set<String> only, int waitingExecutions) {
        this.coordinator = coordinator;
        this.agents = agents;
        this.events = events;
        this.db = db;
        this.results = results;
        this.only = only;
        this.waitingExecutions = waitingExecutions;
    }

    private boolean wanted(String benchmark) {
        return only.isEmpty() || only.contains(benchmark);
    }

    void run() throws Exception {
        Map<String, String> idle = coordinator.stats();
        results.add("idle.heap_mb", mb(idle.get("heap_used_bytes")));
        results.add("idle.threads", Double.parseDouble(idle.get("threads")));
        if (wanted("floor")) {
            floorThroughput();
        }
        double stepsPerSecond = Double.NaN;
        // (the throughput window also warms the JIT up for the latency one)
        if (wanted("throughput") || wanted("latency")) {
            stepsPerSecond = coordinatorThroughput();
        }
        if (wanted("latency")) {
            // bench.latencyRate (executions/s) fixes the load, to compare two builds at the same rate
            String latencyRate = System.getProperty("bench.latencyRate");
            double executionsPerSecond = latencyRate != null ? Double.parseDouble(latencyRate)
                    : stepsPerSecond / 2 / StepClock.STEPS.size();
            coordinatorLatency(executionsPerSecond);
            floorLatency(executionsPerSecond);
        }
        if (wanted("fanout")) {
            fanOut();
        }
        if (wanted("waiting")) {
            waiting();
        }
        if (only.contains("soak")) {   // opt-in: it takes bench.soakMinutes (20) per round
            soak(Double.isNaN(stepsPerSecond) ? 40 : stepsPerSecond / 2 / StepClock.STEPS.size());
        }
    }

    /**
     * Least load before a throughput window. The coordinator is a long-running server, so the figure
     * is its steady state; {@link Window} also waits for its JIT compilers to settle.
     */
    private static final long WARM_UP_MS = Long.getLong("bench.warmUpMs", 60_000);

    // 1. Floor ---------------------------------------------------------------------------------

    private void floorThroughput() throws Exception {
        results.load("floor throughput");
        try (FloorDriver floor = new FloorDriver(coordinator.ready("broker_url"), coordinator.ready("jdbc_url"),
                CONSUMERS, POOL_CONNECTIONS, DB_POOL)) {
            floor.cycling(true);
            for (int i = 0; i < IN_FLIGHT; i++) {
                floor.startToken();
            }
            Window window = Window.measure(WARM_UP_MS, 6_000, floor.steps::get, db, coordinator);
            results.add("floor.steps_per_s", window.perSecond());
            results.add("floor.xact_per_step", window.transactionsPerUnit());
            // the coordinator JVM is idle apart from its embedded broker, which the floor uses
            results.add("floor.cpu_ms_per_step", window.coordinatorCpuMsPerUnit());
            results.add("floor.alloc_kib_per_step", window.coordinatorKiBAllocatedPerUnit());
            results.add("floor.pg_cpu_ms_per_step", window.postgresCpuMsPerUnit());
            results.add("floor.wal_bytes_per_step", window.walBytesPerUnit());
            results.add("floor.machine_busy_pct", window.machineBusyPercent());
            results.add("floor.other_cpu_pct", window.otherCpuPercent());
            results.add("floor.warm_up_s", window.warmUpSeconds());
            results.add("floor.jit_cpu_ms_per_step", window.compilerCpuMsPerUnit());
            System.out.printf("    floor: %.0f steps/s, %.2f ms broker CPU/step, %.2f ms PostgreSQL CPU/step%n",
                    window.perSecond(), window.coordinatorCpuMsPerUnit(), window.postgresCpuMsPerUnit());
            floor.cycling(false);
            awaitCount(floor.finishedTokens::get, IN_FLIGHT, 30_000, "floor tokens to finish");
        }
    }

    // 2. Coordinator step throughput ------------------------------------------------------------

    private double coordinatorThroughput() throws Exception {
        results.load("coordinator throughput");
        ExecutorService reseed = Executors.newSingleThreadExecutor();
        try {
            // closed loop: the last step of an execution starts the next one
            agents.onLastStep = request -> reseed.execute(() -> events.interview(eventNumber.incrementAndGet()));
            for (int i = 0; i < IN_FLIGHT; i++) {
                events.interview(eventNumber.incrementAndGet());
            }
            String jfr = System.getProperty("bench.jfr");
            Window window = Window.measure(WARM_UP_MS, Long.getLong("bench.windowMs", 7_000), agents.handled::get, db, coordinator,
                    jfr == null ? null : new FlightRecording(coordinator.pid(), java.nio.file.Path.of(jfr)));
            agents.onLastStep = request -> { };
            results.add("coord.steps_per_s", window.perSecond());
            results.add("coord.xact_per_step", window.transactionsPerUnit());
            results.add("coord.cpu_ms_per_step", window.coordinatorCpuMsPerUnit());
            results.add("coord.alloc_kib_per_step", window.coordinatorKiBAllocatedPerUnit());
            results.add("harness.cpu_ms_per_step", window.harnessCpuMsPerUnit());
            results.add("coord.pg_cpu_ms_per_step", window.postgresCpuMsPerUnit());
            results.add("coord.wal_bytes_per_step", window.walBytesPerUnit());
            results.add("coord.machine_busy_pct", window.machineBusyPercent());
            results.add("coord.other_cpu_pct", window.otherCpuPercent());
            results.add("coord.warm_up_s", window.warmUpSeconds());
            results.add("coord.jit_cpu_ms_per_step", window.compilerCpuMsPerUnit());
            System.out.printf("    coordinator: %.0f steps/s, %.1f transactions/step, %.0f WAL bytes/step, %.2f ms coordinator CPU/step (%.2f of it JIT, %.0f KiB allocated), %.2f ms harness, %.2f ms PostgreSQL%n",
                    window.perSecond(), window.transactionsPerUnit(), window.walBytesPerUnit(), window.coordinatorCpuMsPerUnit(),
                    window.compilerCpuMsPerUnit(),
                    window.coordinatorKiBAllocatedPerUnit(),
                    window.harnessCpuMsPerUnit(), window.postgresCpuMsPerUnit());
            awaitQuiet();
            afterLoad();
            return window.perSecond();
        } finally {
            reseed.shutdown();
        }
    }

    /**
     * Heap and threads once every execution of the throughput load has ended, against the same JVM
     * idle before it: a long-running server must come back to where it started (nothing kept per
     * execution, no thread left behind).
     */
    private void afterLoad() throws Exception {
        long executions = db.count("SELECT count(*) FROM workflow_executions WHERE workflow_id = 'bench_interview'");
        Map<String, String> stats = coordinator.stats();
        results.add("afterload.executions", executions);
        results.add("afterload.heap_mb", mb(stats.get("heap_used_bytes")));
        results.add("afterload.threads", Double.parseDouble(stats.get("threads")));
        System.out.printf("    after %d executions ended: heap %.1f MB after GC, %s threads%n",
                executions, mb(stats.get("heap_used_bytes")), stats.get("threads"));
    }

    // 3. Dispatch latency ------------------------------------------------------------------------

    private void coordinatorLatency(double executionsPerSecond) throws Exception {
        results.load(String.format("coordinator latency at %.0f executions/s", executionsPerSecond));
        agents.clock.clear();
        agents.clock.recording(true);
        long[] window = paced(executionsPerSecond, 2_000, 5_000, () -> events.interview(eventNumber.incrementAndGet()));
        awaitQuiet();
        agents.clock.recording(false);
        Map<String, long[]> sample = agents.clock.complete(window[0], window[1]);
        List<Double> agentSide = StepClock.replyToNextRequestMs(sample);
        List<Double> dbSide = commitToRequestMs(sample);
        results.add("latency.rate_exec_per_s", executionsPerSecond);
        results.add("latency.p50_ms", Results.percentile(agentSide, 50));
        results.add("latency.p99_ms", Results.percentile(agentSide, 99));
        results.add("latency.db_p50_ms", Results.percentile(dbSide, 50));
        results.add("latency.db_p99_ms", Results.percentile(dbSide, 99));
        results.add("latency.samples", agentSide.size());
        System.out.printf("    latency (reply sent -> next request): p50 %.2f ms, p99 %.2f ms over %d steps; "
                        + "(dependency committed -> next request): p50 %.2f ms, p99 %.2f ms%n",
                Results.percentile(agentSide, 50), Results.percentile(agentSide, 99), agentSide.size(),
                Results.percentile(dbSide, 50), Results.percentile(dbSide, 99));
    }

    /**
     * From each dependency's completed_at in PostgreSQL (now() of the completing transaction) to the
     * wall-clock time the agent received the next request: the coordinator's own share, without the
     * reply's trip through the broker.
     */
    private List<Double> commitToRequestMs(Map<String, long[]> sample) {
        List<Double> latencies = new ArrayList<>();
        if (sample.isEmpty()) {
            return latencies;
        }
        Map<String, long[]> completedMicros = new java.util.HashMap<>();
        for (Object[] row : db.rows("SELECT execution_id, step_id, (extract(epoch FROM completed_at) * 1000000)::bigint "
                + "FROM workflow_step_executions WHERE execution_id = ANY (?) AND kind = 'step'", (Object) sample.keySet().toArray(String[]::new))) {
            int step = StepClock.indexOf((String) row[1]);
            if (step >= 0 && row[2] != null) {
                completedMicros.computeIfAbsent((String) row[0], id -> new long[6])[step] = ((Number) row[2]).longValue();
            }
        }
        sample.forEach((id, t) -> {
            long[] completed = completedMicros.get(id);
            if (completed == null) {
                return;
            }
            for (int s = 0; s < 6; s++) {
                long last = 0;
                for (int d : StepClock.DEPENDENCIES[s]) {
                    last = Math.max(last, completed[d]);
                }
                if (last > 0) {
                    latencies.add((t[12 + s] - last) / 1000.0);
                }
            }
        });
        return latencies;
    }

    private void floorLatency(double executionsPerSecond) throws Exception {
        results.load(String.format("floor latency at %.0f tokens/s", executionsPerSecond));
        try (FloorDriver floor = new FloorDriver(coordinator.ready("broker_url"), coordinator.ready("jdbc_url"),
                CONSUMERS, POOL_CONNECTIONS, DB_POOL)) {
            floor.cycling(false);
            agents.clock.clear();
            agents.clock.recording(true);
            AtomicLong started = new AtomicLong();
            long[] window = paced(executionsPerSecond, 1_000, 4_000, () -> {
                try {
                    floor.startToken();
                    started.incrementAndGet();
                } catch (JMSException e) {
                    throw new IllegalStateException(e);
                }
            });
            awaitCount(floor.finishedTokens::get, started.get(), 30_000, "floor tokens to finish");
            agents.clock.recording(false);
            List<Double> floorSide = StepClock.replyToNextRequestMs(agents.clock.complete(window[0], window[1]));
            results.add("floor.latency.p50_ms", Results.percentile(floorSide, 50));
            results.add("floor.latency.p99_ms", Results.percentile(floorSide, 99));
            System.out.printf("    floor latency (reply sent -> next request): p50 %.2f ms, p99 %.2f ms over %d steps%n",
                    Results.percentile(floorSide, 50), Results.percentile(floorSide, 99), floorSide.size());
        }
    }

    /**
     * Open-loop load: calls {@code start} {@code perSecond} times a second on a fixed schedule (late
     * calls are not made up by bursts of catch-up beyond the schedule); returns the measured window
     * {fromNanos, toNanos} after the warm-up.
     */
    static long[] paced(double perSecond, long warmUpMs, long measureMs, Runnable start) {
        long interval = (long) (1e9 / perSecond);
        long begin = System.nanoTime();
        long from = begin + TimeUnit.MILLISECONDS.toNanos(warmUpMs);
        long to = from + TimeUnit.MILLISECONDS.toNanos(measureMs);
        for (long next = begin; next < to; next += interval) {
            long wait = next - System.nanoTime();
            if (wait > 0) {
                LockSupport.parkNanos(wait);
            }
            start.run();
        }
        return new long[]{from, to};
    }

    // 4. Fan-out ----------------------------------------------------------------------------------

    private void fanOut() throws Exception {
        results.load("fan-out");
        List<Double> walls = new ArrayList<>();
        for (int wave = 0; wave < 4; wave++) {
            List<String> keys = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                keys.add(events.send("BENCH_FANOUT", "{\"region\":\"r-" + wave + "-" + i + "\"}"));
            }
            String[] array = keys.toArray(String[]::new);
            if (!db.awaitZero("SELECT ? - count(*) FROM workflow_executions WHERE trigger_event_key = ANY (?) AND status <> 'running'",
                    30_000, array.length, array)) {
                throw new IllegalStateException("fan-out executions did not finish within 30 s");
            }
            for (Object[] row : db.rows("SELECT extract(epoch FROM completed_at - started_at) * 1000, status FROM workflow_executions "
                    + "WHERE trigger_event_key = ANY (?)", (Object) array)) {
                if (!"completed".equals(row[1])) {
                    throw new IllegalStateException("a fan-out execution ended " + row[1]);
                }
                walls.add(((Number) row[0]).doubleValue());
            }
        }
        results.add("fanout.wall_ms", Results.percentile(walls, 50));
        results.add("fanout.wall_max_ms", Results.percentile(walls, 100));
        System.out.printf("    fan-out: median %.0f ms, max %.0f ms per execution (%d executions)%n",
                Results.percentile(walls, 50), Results.percentile(walls, 100), walls.size());
    }

    // 5. Waiting ------------------------------------------------------------------------------------

    private void waiting() throws Exception {
        results.load("waiting (" + waitingExecutions + " executions)");
        long before = agents.silentlyTaken.get();
        long start = System.nanoTime();
        ExecutorService senders = Executors.newFixedThreadPool(4);
        for (int i = 0; i < waitingExecutions; i++) {
            int n = i;
            senders.execute(() -> events.send("BENCH_WAITING", "{\"n\":" + n + "}"));
        }
        senders.shutdown();
        awaitCount(() -> agents.silentlyTaken.get() - before, waitingExecutions, 300_000, "silent agent to take every request");
        double seconds = (System.nanoTime() - start) / 1e9;
        long waiting = db.count("SELECT count(*) FROM workflow_step_executions s JOIN workflow_executions e ON e.id = s.execution_id "
                + "WHERE e.workflow_id = 'bench_waiting' AND e.status = 'running' AND s.status = 'running'");
        Map<String, String> stats = coordinator.stats();
        results.add("waiting.executions", waiting);
        results.add("waiting.heap_mb", mb(stats.get("heap_used_bytes")));
        results.add("waiting.threads", Double.parseDouble(stats.get("threads")));
        results.add("waiting.start_rate_per_s", waitingExecutions / seconds);
        System.out.printf("    waiting: %d executions running, heap %.0f MB after GC, %s threads (started at %.0f/s)%n",
                waiting, mb(stats.get("heap_used_bytes")), stats.get("threads"), waitingExecutions / seconds);
    }

    // 7. Endurance -------------------------------------------------------------------------------------

    private void soak(double defaultRate) throws Exception {
        String rateSetting = System.getProperty("bench.soakRate");
        double rate = rateSetting != null ? Double.parseDouble(rateSetting) : defaultRate;
        double minutes = Double.parseDouble(System.getProperty("bench.soakMinutes", "20"));
        results.load(String.format("soak at %.0f executions/s for %.0f min", rate, minutes));
        new Soak(coordinator, events, db, eventNumber).run(rate, minutes, Long.getLong("bench.soakSampleMs", 60_000), results);
    }

    // helpers ----------------------------------------------------------------------------------------

    private void awaitQuiet() throws InterruptedException {
        if (!db.awaitZero(RUNNING_INTERVIEWS, 60_000)) {
            throw new IllegalStateException("interview executions still running 60 s after the load stopped");
        }
    }

    private static void awaitCount(java.util.function.LongSupplier counter, long expected, long timeoutMs, String what)
            throws InterruptedException {
        long deadline = System.currentTimeMillis() + timeoutMs;
        while (counter.getAsLong() < expected) {
            if (System.currentTimeMillis() > deadline) {
                throw new IllegalStateException("timed out waiting for " + what + ": " + counter.getAsLong() + " of " + expected);
            }
            Thread.sleep(20);
        }
    }

    static double mb(String bytes) {
        return Long.parseLong(bytes) / (1024.0 * 1024.0);
    }
}
