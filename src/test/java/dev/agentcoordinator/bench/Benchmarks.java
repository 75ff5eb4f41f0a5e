package dev.agentcoordinator.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * The benchmark harness of issue 7 (not part of the test suite). Runs everything on this machine:
 * per round it forks coordinator JVMs with fresh data folders and free ports (embedded Artemis and
 * PostgreSQL inside), runs the no-op agents, the floor and the load generator in this JVM, and
 * finally writes the medians into BENCHMARKS.md.
 *
 * <pre>
 * mvn -q -B test-compile exec:java -Dexec.classpathScope=test -Dexec.mainClass=dev.agentcoordinator.bench.Benchmarks
 * </pre>
 *
 * System properties: {@code bench.rounds} (3), {@code bench.only} (comma list of startup, floor,
 * throughput, latency, fanout, waiting; default all; {@code soak}, the endurance run, only when named),
 * {@code bench.waiting} (10000), {@code bench.soakMinutes} (20), {@code bench.soakRate} (executions/s),
 * {@code bench.output} (BENCHMARKS.md; {@code none} to print only), {@code bench.jvmArgs} (extra
 * options of the forked coordinator JVM, e.g. {@code -XX:StartFlightRecording=filename=/tmp/c.jfr,settings=profile}).
 */
public final class Benchmarks {

    private Benchmarks() {
    }

    public static void main(String[] args) throws Exception {
        int rounds = Integer.getInteger("bench.rounds", 3);
        Set<String> only = new LinkedHashSet<>();
        for (String name : System.getProperty("bench.only", "").split(",")) {
            if (!name.isBlank()) {
                only.add(name.trim());
            }
        }
        int waiting = Integer.getInteger("bench.waiting", 10_000);
        String output = System.getProperty("bench.output", "BENCHMARKS.md");
        List<String> jvmArgs = splitArgs(System.getProperty("bench.jvmArgs", ""));
        Path workDir = Files.createTempDirectory("coordinator-bench");

        System.out.printf("Benchmarks: %d round(s), %s; %d cores, %d MiB, %s; work in %s%n", rounds,
                only.isEmpty() ? "all" : String.join(",", only), Machine.cores(), Machine.memoryMiB(), Machine.javaVersion(), workDir);
        Results results = new Results();
        long began = System.nanoTime();
        boolean measuresStartup = only.isEmpty() || only.contains("startup");
        ClassDataArchive archive = null;
        if (measuresStartup) {
            archive = ClassDataArchive.make(workDir.resolve("class-data"));
            System.out.printf("Class-data archive for the start-up figure, made as ./coordinator makes it: %d MB%n",
                    archive.sizeBytes() >> 20);
        }
        for (int round = 1; round <= rounds; round++) {
            System.out.printf("Round %d of %d%n", round, rounds);
            Path roundDir = Files.createDirectories(workDir.resolve("round-" + round));
            if (measuresStartup) {
                startup(roundDir, results, archive);
            }
            if (only.isEmpty() || only.stream().anyMatch(b -> !b.equals("startup"))) {
                loadRound(roundDir, results, only, waiting, jvmArgs);
            }
        }
        double minutes = (System.nanoTime() - began) / 60e9;
        Report report = new Report(results, rounds, minutes);
        System.out.println();
        System.out.println(report.table());
        if (!output.equals("none")) {
            report.writeInto(Path.of(output));
            System.out.println("Written into " + Path.of(output).toAbsolutePath());
        }
        deleteTree(workDir, "coordinator-log.txt");
        System.out.println("Coordinator logs kept in " + workDir);
    }

    /**
     * 6. Start to ready, launched as {@code ./coordinator} launches it (application jars and the class-data
     * archive): a fresh coordinator on embedded defaults, its restart, the infrastructure alone; and a
     * restart without the archive, as {@code mvn exec:java} starts it.
     */
    private static void startup(Path roundDir, Results results, ClassDataArchive archive) throws Exception {
        results.load("start-up");
        Path data = roundDir.resolve("startup-data");
        Machine.awaitQuiet(30_000);
        try (CoordinatorProcess fresh = CoordinatorProcess.start(data, Map.of(), archive.jvmArgs(), archive.classpath(),
                roundDir.resolve("startup-coordinator-log.txt"))) {
            results.add("startup.fresh_ms", Double.parseDouble(fresh.ready("start_to_ready_ms")));
            results.add("startup.fresh_jvm_ms", Double.parseDouble(fresh.ready("jvm_launch_to_ready_ms")));
        }
        Machine.awaitQuiet(30_000);
        try (CoordinatorProcess restart = CoordinatorProcess.start(data, Map.of(), archive.jvmArgs(), archive.classpath(),
                roundDir.resolve("restart-coordinator-log.txt"))) {
            results.add("startup.restart_ms", Double.parseDouble(restart.ready("start_to_ready_ms")));
        }
        Machine.awaitQuiet(30_000);
        try (CoordinatorProcess plain = CoordinatorProcess.start(data, Map.of(), List.of(),
                roundDir.resolve("restart-without-archive-coordinator-log.txt"))) {
            results.add("startup.restart_no_archive_ms", Double.parseDouble(plain.ready("start_to_ready_ms")));
        }
        Machine.awaitQuiet(30_000);
        List<String> infraOnly = new ArrayList<>(archive.jvmArgs());
        infraOnly.add("-D" + CoordinatorFork.INFRA_ONLY + "=true");
        try (CoordinatorProcess infra = CoordinatorProcess.start(roundDir.resolve("infra-data"), Map.of(), infraOnly,
                archive.classpath(), roundDir.resolve("infra-coordinator-log.txt"))) {
            results.add("startup.infra_fresh_ms", Double.parseDouble(infra.ready("start_to_ready_ms")));
        }
        System.out.printf("    start to ready: fresh %.0f ms (JVM launch to ready %.0f ms), restart %.0f ms (without the"
                        + " class-data archive %.0f ms); broker+database alone %.0f ms%n",
                last(results, "startup.fresh_ms"), last(results, "startup.fresh_jvm_ms"), last(results, "startup.restart_ms"),
                last(results, "startup.restart_no_archive_ms"), last(results, "startup.infra_fresh_ms"));
    }

    /** Figures 1 to 5 against one coordinator with the benchmark workflows and no demo agents. */
    private static void loadRound(Path roundDir, Results results, Set<String> only, int waiting, List<String> jvmArgs)
            throws Exception {
        Map<String, String> settings = Map.of(
                "demo-agents.enabled", "false",
                "workflows.dir", Path.of("bench/workflows").toAbsolutePath().toString());
        try (CoordinatorProcess coordinator = CoordinatorProcess.start(roundDir.resolve("data"), settings, jvmArgs,
                roundDir.resolve("coordinator-log.txt"));
             BenchAgents agents = new BenchAgents(coordinator.ready("broker_url"));
             EventSender events = new EventSender(coordinator.ready("broker_url"));
             Db db = new Db(coordinator.ready("jdbc_url"))) {
            System.out.printf("    coordinator JVM pid %d, broker %s, database %s%n", coordinator.pid(),
                    coordinator.ready("broker_url"), coordinator.ready("jdbc_url"));
            new Round(coordinator, agents, events, db, results, only, waiting).run();
        }
    }

    private static double last(Results results, String name) {
        List<Double> runs = results.runs(name);
        return runs.isEmpty() ? Double.NaN : runs.get(runs.size() - 1);
    }

    private static List<String> splitArgs(String args) {
        return args.isBlank() ? List.of() : new ArrayList<>(Arrays.asList(args.trim().split("\\s+")));
    }

    /** Deletes the data folders of the forks; keeps files named {@code *keep} (their logs). */
    private static void deleteTree(Path root, String keepSuffix) throws IOException {
        try (Stream<Path> paths = Files.walk(root)) {
            paths.sorted(Comparator.reverseOrder())
                    .filter(p -> !p.getFileName().toString().endsWith(keepSuffix))
                    .forEach(p -> {
                        try {
                            Files.deleteIfExists(p);
                        } catch (IOException e) {
                            // a non-empty folder that holds a log
                        }
                    });
        }
    }

    static String now() {
        return ZonedDateTime.now().format(DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm z"));
    }
}
