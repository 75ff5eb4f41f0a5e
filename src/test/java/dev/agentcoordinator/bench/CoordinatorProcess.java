package dev.agentcoordinator.bench;

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.io.Writer;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A coordinator in a JVM of its own ({@link CoordinatorFork}), started with the harness's classpath,
 * fresh data folder and free ports. Its log goes to a file; its answers come back as maps.
 */
final class CoordinatorProcess implements AutoCloseable {

    private final Process process;
    private final PrintWriter commands;
    private final BlockingQueue<Map<String, String>> answers = new LinkedBlockingQueue<>();
    private final Map<String, String> ready;
    private final Path logFile;

    private CoordinatorProcess(Process process, Path logFile, long readyTimeoutSeconds) throws IOException, InterruptedException {
        this.process = process;
        this.logFile = logFile;
        this.commands = new PrintWriter(new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8), true);
        Thread pump = new Thread(() -> pump(logFile), "bench-fork-output");
        pump.setDaemon(true);
        pump.start();
        this.ready = next("ready", readyTimeoutSeconds);
    }

    /**
     * Starts a coordinator with {@code settings} (coordinator.* without the prefix) and data in
     * {@code dataDir}; {@code jvmArgs} are extra JVM options (e.g. a flight recording).
     */
    static CoordinatorProcess start(Path dataDir, Map<String, String> settings, List<String> jvmArgs, Path logFile)
            throws IOException, InterruptedException {
        return start(dataDir, settings, jvmArgs, classpath(), logFile);
    }

    /** As {@link #start(Path, Map, List, Path)}, on {@code classpath} instead of the harness's. */
    static CoordinatorProcess start(Path dataDir, Map<String, String> settings, List<String> jvmArgs, String classpath,
                                    Path logFile) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(Paths.get(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(jvmArgs);
        Map<String, String> all = new LinkedHashMap<>();
        all.put("data.dir", dataDir.toString());
        all.put("broker.embedded.port", "0");
        all.put("http.port", "0");
        all.putAll(settings);
        all.forEach((key, value) -> command.add("-Dcoordinator." + key + "=" + value));
        command.add("-cp");
        command.add(classpath);
        command.add(CoordinatorFork.class.getName());
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        try {
            return new CoordinatorProcess(process, logFile, 120);
        } catch (IOException | InterruptedException | RuntimeException e) {
            process.destroyForcibly();
            throw e;
        }
    }

    /** The value of the ready line: broker_url, jdbc_url, http_url, start_to_ready_ms, jvm_launch_to_ready_ms. */
    String ready(String key) {
        return ready.get(key);
    }

    long pid() {
        return process.pid();
    }

    /** Heap used after GC, live threads and CPU time of the coordinator JVM. */
    Map<String, String> stats() throws InterruptedException {
        commands.println("stats");
        return next("stats", 60);
    }

    /** CPU time the coordinator JVM has used so far and the bytes its threads allocated (no GC). */
    Usage usage() throws InterruptedException {
        commands.println("cpu");
        Map<String, String> answer = next("cpu", 30);
        return new Usage(Long.parseLong(answer.get("cpu_nanos")), Long.parseLong(answer.get("allocated_bytes")));
    }

    record Usage(long cpuNanos, long allocatedBytes) {
    }

    Path logFile() {
        return logFile;
    }

    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            commands.println("quit");
            if (!process.waitFor(60, TimeUnit.SECONDS)) {
                process.destroy();
                if (!process.waitFor(20, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                }
            }
        }
    }

    private Map<String, String> next(String kind, long timeoutSeconds) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutSeconds);
        while (true) {
            Map<String, String> answer = answers.poll(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            if (answer == null) {
                throw new IllegalStateException("coordinator JVM gave no '" + kind + "' answer within " + timeoutSeconds
                        + " s (alive: " + process.isAlive() + "); see its log " + logFile);
            }
            if (answer.containsKey("exited")) {
                throw new IllegalStateException("coordinator JVM exited before '" + kind + "'; see its log " + logFile);
            }
            if (kind.equals(answer.get("kind"))) {
                return answer;
            }
        }
    }

    /** Copies the fork's output to its log file and hands the protocol lines to {@link #next}. */
    private void pump(Path logFile) {
        try (BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
             Writer log = new BufferedWriter(Files.newBufferedWriter(logFile, StandardCharsets.UTF_8))) {
            String line;
            while ((line = out.readLine()) != null) {
                log.write(line);
                log.write('\n');
                if (line.startsWith(CoordinatorFork.PREFIX)) {
                    log.flush();
                    answers.add(parse(line.substring(CoordinatorFork.PREFIX.length())));
                }
            }
        } catch (IOException e) {
            // the process ended
        }
        answers.add(Map.of("exited", "true"));
    }

    private static Map<String, String> parse(String line) {
        String[] parts = line.split(" ");
        Map<String, String> values = new LinkedHashMap<>();
        values.put("kind", parts[0]);
        for (int i = 1; i < parts.length; i++) {
            int eq = parts[i].indexOf('=');
            values.put(parts[i].substring(0, eq), parts[i].substring(eq + 1));
        }
        return values;
    }

    /**
     * The harness's own classpath. Under {@code mvn exec:java} that is the URLs of the plugin's class
     * loader (java.class.path is Maven's launcher then); under a plain {@code java -cp} it is java.class.path.
     */
    static String classpath() {
        Set<String> entries = new LinkedHashSet<>();
        for (ClassLoader loader = Thread.currentThread().getContextClassLoader(); loader != null; loader = loader.getParent()) {
            if (loader instanceof URLClassLoader urls) {
                for (URL url : urls.getURLs()) {
                    try {
                        entries.add(new File(url.toURI()).getPath());
                    } catch (Exception e) {
                        entries.add(url.getPath());
                    }
                }
            }
        }
        boolean hasOwnClasses = entries.stream().anyMatch(e -> e.contains("test-classes"));
        if (!hasOwnClasses) {
            entries.clear();
            entries.add(System.getProperty("java.class.path"));
        }
        return String.join(File.pathSeparator, entries);
    }
}
