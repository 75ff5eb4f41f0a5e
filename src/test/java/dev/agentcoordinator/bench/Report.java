package dev.agentcoordinator.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * The figures as a Markdown table with PASS / MISS against the targets, written between the
 * markers of BENCHMARKS.md so that the hand-written sections around them stay.
 */
final class Report {
    static final String BEGIN = "<!-- bench:results:begin (written by dev.agentcoordinator.bench.Benchmarks) -->";
    static final String END = "<!-- bench:results:end -->";
    /** Other processes' CPU in a throughput window, % of all cores, from which a run counts as on a shared machine. */
    private static final double SHARED_MACHINE_OTHER_CPU_PCT = 10;

    /** A row: measured value (median of rounds), its baseline, and the target it must meet. */
    private record Row(String label, String key, String unit, String baselineLabel, String baselineKey,
                       Double baselineConstant, String targetText, Target target) {
    }

    private interface Target {
        boolean met(double value, double ratio);
    }

    private final Results results;
    private final int rounds;
    private final double minutes;

    Report(Results results, int rounds, double minutes) {
        this.results = results;
        this.rounds = rounds;
        this.minutes = minutes;
    }

    private static List<Row> rows() {
        return List.of(
                new Row("1. Floor: JMS request + reply + 1 JDBC insert per step", "floor.steps_per_s", "steps/s",
                        null, null, null, "(baseline)", null),
                new Row("2. Coordinator step throughput (6-step interview shape)", "coord.steps_per_s", "steps/s",
                        "floor", "floor.steps_per_s", null, "≥ 1,500 steps/s and ≥ 0.5 × floor",
                        (v, r) -> v >= 1500 && r >= 0.5),
                new Row("3. Dispatch latency p50 (reply sent → next request at agent)", "latency.p50_ms", "ms",
                        "floor p50", "floor.latency.p50_ms", null, "≤ 2 ms", (v, r) -> v <= 2),
                new Row("3. Dispatch latency p99 (reply sent → next request at agent)", "latency.p99_ms", "ms",
                        "floor p99", "floor.latency.p99_ms", null, "≤ 15 ms", (v, r) -> v <= 15),
                new Row("3. Dispatch latency p50 (dependency's completed_at → next request)", "latency.db_p50_ms", "ms",
                        null, null, null, "≤ 2 ms", (v, r) -> v <= 2),
                new Row("3. Dispatch latency p99 (dependency's completed_at → next request)", "latency.db_p99_ms", "ms",
                        null, null, null, "≤ 15 ms", (v, r) -> v <= 15),
                new Row("4. Fan-out, 3 × 300 ms agents in parallel: wall time per execution (median)", "fanout.wall_ms", "ms",
                        "agent time", null, 300.0, "≤ 330 ms", (v, r) -> v <= 330),
                new Row("5. Waiting: heap used after GC with 10,000 executions waiting", "waiting.heap_mb", "MB",
                        "idle", "idle.heap_mb", null, "≤ 256 MB", (v, r) -> v <= 256),
                new Row("5. Waiting: live threads of the coordinator JVM", "waiting.threads", "threads",
                        "idle", "idle.threads", null, "< 100", (v, r) -> v < 100),
                new Row("6. Start to ready, fresh data folder (as ./coordinator starts it; CoordinatorApp.start → HTTP answers)", "startup.fresh_ms", "ms",
                        "broker + DB alone", "startup.infra_fresh_ms", null, "≤ 5,000 ms", (v, r) -> v <= 5000),
                new Row("6. Start to ready, restart on existing data", "startup.restart_ms", "ms",
                        null, null, null, "≤ 5,000 ms", (v, r) -> v <= 5000));
    }

    /** The results table with PASS / MISS. */
    String table() {
        StringBuilder t = new StringBuilder();
        t.append("| figure | median | runs | baseline | ratio | target | result |\n");
        t.append("|---|---:|---|---:|---:|---|---|\n");
        for (Row row : rows()) {
            if (!results.has(row.key())) {
                continue;
            }
            double value = results.median(row.key());
            double baseline = row.baselineConstant() != null ? row.baselineConstant()
                    : row.baselineKey() != null && results.has(row.baselineKey()) ? results.median(row.baselineKey()) : Double.NaN;
            double ratio = value / baseline;
            String result = row.target() == null ? "" : row.target().met(value, ratio) ? "**PASS**" : "**MISS**";
            t.append("| ").append(row.label())
                    .append(" | ").append(format(value)).append(' ').append(row.unit())
                    .append(" | ").append(results.runs(row.key()).stream().map(Report::format).collect(Collectors.joining(", ")))
                    .append(" | ").append(Double.isNaN(baseline) ? "" : format(baseline) + " (" + row.baselineLabel() + ")")
                    .append(" | ").append(Double.isNaN(ratio) ? "" : String.format(Locale.ROOT, "%.2f×", ratio))
                    .append(" | ").append(row.targetText())
                    .append(" | ").append(result).append(" |\n");
        }
        return t.toString();
    }

    /**
     * The coordinator's throughput over the floor's within each round: the two windows run back to
     * back on one machine, so this ratio drifts less than the machine does between rounds.
     */
    private void perRoundRatio(StringBuilder d) {
        List<Double> coordinator = results.runs("coord.steps_per_s");
        List<Double> floor = results.runs("floor.steps_per_s");
        if (coordinator.isEmpty() || coordinator.size() != floor.size()) {
            return;
        }
        List<Double> ratios = new java.util.ArrayList<>();
        for (int i = 0; i < coordinator.size(); i++) {
            ratios.add(coordinator.get(i) / floor.get(i));
        }
        d.append(String.format(Locale.ROOT, "Throughput ratio to the floor within each round: %s (median %.2f×).%n",
                ratios.stream().map(r -> String.format(Locale.ROOT, "%.2f×", r)).collect(Collectors.joining(", ")),
                Results.percentile(ratios, 50)));
    }

    /** Costs per step in the throughput windows, and what else the rounds saw. */
    private String details() {
        StringBuilder d = new StringBuilder();
        if (results.has("coord.steps_per_s") || results.has("floor.steps_per_s")) {
            perStep(d);
        }
        perRoundRatio(d);
        if (results.has("afterload.heap_mb")) {
            d.append(String.format(Locale.ROOT, "After the throughput load (%s executions per round, all ended): heap used after GC"
                            + " %s MB (%s) against %s MB idle before it, %s live threads against %s.%n",
                    format(results.median("afterload.executions")), format(results.median("afterload.heap_mb")),
                    results.runs("afterload.heap_mb").stream().map(Report::format).collect(Collectors.joining(", ")),
                    format(results.median("idle.heap_mb")), format(results.median("afterload.threads")),
                    format(results.median("idle.threads"))));
        }
        if (results.has("latency.rate_exec_per_s")) {
            d.append(String.format(Locale.ROOT, "Latency load: %s executions/s (half of the measured maximum, open loop), "
                            + "%s dependent steps sampled per round.%n",
                    format(results.median("latency.rate_exec_per_s")), format(results.median("latency.samples"))));
        }
        if (results.has("fanout.wall_max_ms")) {
            d.append(String.format(Locale.ROOT, "Fan-out: slowest execution per round %s ms.%n",
                    results.runs("fanout.wall_max_ms").stream().map(Report::format).collect(Collectors.joining(", "))));
        }
        if (results.has("waiting.executions")) {
            d.append(String.format(Locale.ROOT, "Waiting: %s executions running per round (each with its step running), "
                            + "started at %s executions/s.%n",
                    results.runs("waiting.executions").stream().map(Report::format).collect(Collectors.joining(", ")),
                    format(results.median("waiting.start_rate_per_s"))));
        }
        if (results.has("soak.executions")) {
            soak(d);
        }
        if (results.has("startup.fresh_jvm_ms")) {
            d.append(String.format(Locale.ROOT, "Start-up from JVM launch (fresh): %s ms median.%n",
                    format(results.median("startup.fresh_jvm_ms"))));
        }
        if (results.has("startup.restart_no_archive_ms")) {
            d.append(String.format(Locale.ROOT, "Restart without the class-data archive (as `mvn exec:java` starts it):"
                            + " %s ms (%s).%n", format(results.median("startup.restart_no_archive_ms")),
                    results.runs("startup.restart_no_archive_ms").stream().map(Report::format).collect(Collectors.joining(", "))));
        }
        return d.toString();
    }

    private void perStep(StringBuilder d) {
        d.append("| per step, in the throughput window | coordinator | floor |\n|---|---:|---:|\n");
        d.append(line("PostgreSQL commits per step (pg_stat_database, ±1 s flush)", "coord.xact_per_step", "floor.xact_per_step"));
        d.append(line("PostgreSQL write-ahead log per step, bytes", "coord.wal_bytes_per_step", "floor.wal_bytes_per_step"));
        d.append(line("CPU ms per step, coordinator JVM (incl. embedded broker; floor: the broker alone)", "coord.cpu_ms_per_step", "floor.cpu_ms_per_step"));
        d.append(line("of which its JIT compilers (settled before the window)", "coord.jit_cpu_ms_per_step", "floor.jit_cpu_ms_per_step"));
        d.append(line("KiB allocated per step, coordinator JVM (floor: the broker alone)", "coord.alloc_kib_per_step", "floor.alloc_kib_per_step"));
        d.append(line("CPU ms per step, harness JVM (agents, load, floor driver)", "harness.cpu_ms_per_step", null));
        d.append(line("CPU ms per step, PostgreSQL processes", "coord.pg_cpu_ms_per_step", "floor.pg_cpu_ms_per_step"));
        d.append(line("whole machine busy, % of all cores", "coord.machine_busy_pct", "floor.machine_busy_pct"));
        d.append(line("of which other processes (not the coordinator, the harness or PostgreSQL), % of all cores", "coord.other_cpu_pct", "floor.other_cpu_pct"));
        d.append(line("warm-up before the window, s (at least 60, until the JIT settled)", "coord.warm_up_s", "floor.warm_up_s"));
        d.append('\n');
    }

    /** 7. Endurance (opt-in): what a coordinator that has run for a while holds, and its last round's readings. */
    private void soak(StringBuilder d) {
        d.append(String.format(Locale.ROOT, "Endurance (`-Dbench.only=soak`, medians of the rounds): %s executions/s for %s min,"
                        + " %s executions completed per round, %s ended otherwise, at most %s running at a reading once warm. Heap after a"
                        + " full GC %s MB at the second reading under load (the first comes while the JIT still compiles) and %s MB after the load (least-squares slope under load %s MB per 100,000"
                        + " executions); live threads %s at that reading, at most %s, %s after; resident memory %s → %s MB; open"
                        + " files %s → %s; PostgreSQL sessions at most %s; database %s MB at the end.%n",
                format(results.median("soak.rate")), format(results.median("soak.minutes")),
                count(results.median("soak.executions")), count(results.median("soak.not_completed")),
                count(results.median("soak.running_max")), format(results.median("soak.heap_first_mb")),
                format(results.median("soak.heap_end_mb")), format(results.median("soak.heap_slope_mb_per_100k")),
                count(results.median("soak.threads_first")), count(results.median("soak.threads_max")),
                count(results.median("soak.threads_end")), format(results.median("soak.rss_first_mb")),
                format(results.median("soak.rss_end_mb")), count(results.median("soak.files_first")),
                count(results.median("soak.files_end")), count(results.median("soak.pg_sessions_max")),
                format(results.median("soak.database_end_mb"))));
        d.append("\n<details><summary>Endurance readings of the last round (the last one after the load ended)</summary>\n\n"
                + "| minute | started | completed | running | heap after GC, MB | threads | RSS, MB | open files"
                + " | PostgreSQL sessions | database, MB |\n|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        results.soakReadings.forEach(row -> d.append(row).append('\n'));
        d.append("\n</details>\n\n");
    }

    private String line(String label, String coordinatorKey, String floorKey) {
        String c = coordinatorKey != null && results.has(coordinatorKey) ? format(results.median(coordinatorKey)) : "";
        String f = floorKey != null && results.has(floorKey) ? format(results.median(floorKey)) : "";
        return "| " + label + " | " + c + " | " + f + " |\n";
    }

    /** The generated section: machine, date, load, table, details. */
    String section() {
        double otherWork = Math.max(max(results.runs("coord.other_cpu_pct")), max(results.runs("floor.other_cpu_pct")));
        boolean shared = otherWork >= SHARED_MACHINE_OTHER_CPU_PCT;
        return BEGIN + "\n"
                + "## Latest run\n\n"
                + String.format(Locale.ROOT, "%s · %d cores · %,d MiB · %s · %d round(s), median reported · %.1f min · code %s%n%n",
                Benchmarks.now(), Machine.cores(), Machine.memoryMiB(), Machine.javaVersion(), rounds, minutes, Machine.revision())
                + (shared ? String.format(Locale.ROOT, "**Shared machine:** other processes took up to %.0f %% of all cores"
                + " during a throughput window, so the figures are lower than on an idle machine.%n%n", otherWork) : "")
                + table() + "\n"
                + details() + "\n"
                + "<details><summary>Load average before each benchmark (the benchmark's own load from the stage before is in it)</summary>\n\n"
                + results.loadNotes.stream().map(n -> "- " + n).collect(Collectors.joining("\n")) + "\n\n</details>\n"
                + END;
    }

    private static double max(java.util.List<Double> runs) {
        return runs.stream().mapToDouble(Double::doubleValue).filter(v -> !Double.isNaN(v)).max().orElse(0);
    }

    /** Replaces the generated section of {@code file}, or creates the file around it. */
    void writeInto(Path file) throws IOException {
        String text = Files.exists(file) ? Files.readString(file) : "# Benchmarks\n\n" + BEGIN + "\n" + END + "\n";
        int begin = text.indexOf(BEGIN);
        int end = text.indexOf(END);
        if (begin < 0 || end < begin) {
            text = text.stripTrailing() + "\n\n" + section() + "\n";
        } else {
            text = text.substring(0, begin) + section() + text.substring(end + END.length());
        }
        Files.writeString(file, text);
    }

    private static String count(double value) {
        return String.format(Locale.ROOT, "%,.0f", value);
    }

    static String format(double value) {
        if (Double.isNaN(value)) {
            return "n/a";
        }
        if (Math.abs(value) >= 100) {
            return String.format(Locale.ROOT, "%,.0f", value);
        }
        return String.format(Locale.ROOT, Math.abs(value) >= 10 ? "%.1f" : "%.2f", value);
    }
}
