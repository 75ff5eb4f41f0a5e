package dev.agentcoordinator.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * 7. Endurance (opt-in: {@code -Dbench.only=soak}): interview executions at a fixed rate for many
 * minutes against one coordinator, which keeps every execution (no retention), as a server that has
 * run for a while does. Once a minute the coordinator JVM's heap after a full GC, its threads, its
 * resident memory and open files, PostgreSQL's sessions and the backlog are read. A long-running
 * server must hold them flat: whatever grows with the executions it has run is a leak, and a
 * backlog that grows means it no longer keeps up as its tables grow.
 */
final class Soak {
    /** One reading, taken while the load runs (and once after it). */
    record Sample(double minute, long started, long completed, long running, double heapMb, int threads,
                  double rssMb, long openFiles, long postgresSessions, double databaseMb) {
    }

    /**
     * Readings (the one before the load included) after which the coordinator counts as warm: during the
     * first reading under load the JIT still compiles and a backlog may wait.
     */
    static final int WARM_READINGS = 2;

    private static final String INTERVIEWS = "SELECT count(*) FILTER (WHERE status = 'completed'), "
            + "count(*) FILTER (WHERE status = 'running'), count(*) FILTER (WHERE status NOT IN ('completed', 'running')) "
            + "FROM workflow_executions WHERE workflow_id = 'bench_interview'";

    private final CoordinatorProcess coordinator;
    private final EventSender events;
    private final Db db;
    private final AtomicLong eventNumber;

    Soak(CoordinatorProcess coordinator, EventSender events, Db db, AtomicLong eventNumber) {
        this.coordinator = coordinator;
        this.events = events;
        this.db = db;
        this.eventNumber = eventNumber;
    }

    /**
     * Runs the load for {@code minutes} at {@code executionsPerSecond}, a reading every {@code sampleMs},
     * and adds the figures to {@code results}.
     */
    void run(double executionsPerSecond, double minutes, long sampleMs, Results results) throws Exception {
        long before = counts()[0];
        AtomicLong started = new AtomicLong();
        List<Sample> samples = new ArrayList<>();
        long begin = System.nanoTime();
        samples.add(sample(begin, started.get(), before));
        ExecutorService pacer = Executors.newSingleThreadExecutor();
        try {
            Future<?> load = pacer.submit(() -> Round.paced(executionsPerSecond, 0, (long) (minutes * 60_000), () -> {
                events.interview(eventNumber.incrementAndGet());
                started.incrementAndGet();
            }));
            while (!load.isDone()) {
                long next = System.nanoTime() + sampleMs * 1_000_000;
                while (!load.isDone() && System.nanoTime() < next) {
                    Thread.sleep(100);
                }
                if (!load.isDone()) {
                    samples.add(print(sample(begin, started.get(), before)));
                }
            }
            load.get();
        } finally {
            pacer.shutdownNow();
        }
        if (!db.awaitZero("SELECT count(*) FROM workflow_executions WHERE workflow_id = 'bench_interview' AND status = 'running'",
                120_000)) {
            throw new IllegalStateException("soak executions still running 120 s after the load stopped");
        }
        samples.add(print(sample(begin, started.get(), before)));
        record(samples, executionsPerSecond, minutes, results);
    }

    private void record(List<Sample> samples, double rate, double minutes, Results results) {
        List<Sample> warm = samples.subList(Math.min(WARM_READINGS, samples.size() - 1), samples.size());
        Sample first = warm.get(0);
        Sample end = samples.get(samples.size() - 1);   // the load over, every execution ended
        results.add("soak.rate", rate);
        results.add("soak.minutes", minutes);
        results.add("soak.executions", end.completed());
        results.add("soak.not_completed", counts()[2]);
        results.add("soak.heap_first_mb", first.heapMb());
        results.add("soak.heap_end_mb", end.heapMb());
        results.add("soak.heap_slope_mb_per_100k", heapSlopePer100k(samples, WARM_READINGS));
        results.add("soak.threads_first", first.threads());
        results.add("soak.threads_max", warm.stream().mapToInt(Sample::threads).max().orElse(0));
        results.add("soak.threads_end", end.threads());
        results.add("soak.rss_first_mb", first.rssMb());
        results.add("soak.rss_end_mb", end.rssMb());
        results.add("soak.files_first", first.openFiles());
        results.add("soak.files_end", end.openFiles());
        results.add("soak.pg_sessions_max", warm.stream().mapToLong(Sample::postgresSessions).max().orElse(0));
        results.add("soak.running_max", warm.stream().mapToLong(Sample::running).max().orElse(0));
        results.add("soak.database_end_mb", end.databaseMb());
        results.soakReadings.clear();
        samples.forEach(s -> results.soakReadings.add(String.format(Locale.ROOT,
                "| %.1f | %,d | %,d | %d | %.1f | %d | %.0f | %d | %d | %.0f |", s.minute(), s.started(), s.completed(),
                s.running(), s.heapMb(), s.threads(), s.rssMb(), s.openFiles(), s.postgresSessions(), s.databaseMb())));
    }

    private Sample sample(long begin, long started, long completedBefore) throws InterruptedException, IOException {
        long[] counts = counts();
        Map<String, String> stats = coordinator.stats();
        return new Sample((System.nanoTime() - begin) / 60e9, started, counts[0] - completedBefore, counts[1],
                Round.mb(stats.get("heap_used_bytes")), Integer.parseInt(stats.get("threads")), residentMb(coordinator.pid()),
                openFiles(coordinator.pid()),
                db.count("SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'"),
                db.count("SELECT pg_database_size(current_database())") / (1024.0 * 1024.0));
    }

    /** Completed, running and otherwise ended (none should) interview executions. */
    private long[] counts() {
        Object[] row = db.rows(INTERVIEWS).get(0);
        return new long[]{((Number) row[0]).longValue(), ((Number) row[1]).longValue(), ((Number) row[2]).longValue()};
    }

    private static Sample print(Sample s) {
        System.out.printf(Locale.ROOT, "    soak %5.1f min: %,d started, %,d completed, %d running; heap %.1f MB after GC, %d threads,"
                        + " RSS %.0f MB, %d open files, %d PostgreSQL sessions, database %.0f MB%n",
                s.minute(), s.started(), s.completed(), s.running(), s.heapMb(), s.threads(), s.rssMb(), s.openFiles(),
                s.postgresSessions(), s.databaseMb());
        return s;
    }

    /**
     * Least-squares slope of heap after GC over executions completed, in MB per 100,000, from the
     * readings under load from index {@code skip} on (the JIT and the caches fill first).
     */
    static double heapSlopePer100k(List<Sample> samples, int skip) {
        List<Sample> under = samples.subList(Math.min(skip, samples.size()), Math.max(skip, samples.size() - 1));
        if (under.size() < 2) {
            return Double.NaN;
        }
        double meanX = under.stream().mapToDouble(Sample::completed).average().orElse(0);
        double meanY = under.stream().mapToDouble(Sample::heapMb).average().orElse(0);
        double covariance = 0;
        double variance = 0;
        for (Sample s : under) {
            covariance += (s.completed() - meanX) * (s.heapMb() - meanY);
            variance += (s.completed() - meanX) * (s.completed() - meanX);
        }
        return variance == 0 ? Double.NaN : covariance / variance * 100_000;
    }

    private static double residentMb(long pid) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024.0;
            }
        }
        return Double.NaN;
    }

    private static long openFiles(long pid) throws IOException {
        try (Stream<Path> fds = Files.list(Path.of("/proc", Long.toString(pid), "fd"))) {
            return fds.count();
        }
    }
}
