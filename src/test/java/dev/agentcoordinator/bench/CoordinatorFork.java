package dev.agentcoordinator.bench;

import com.sun.management.OperatingSystemMXBean;
import dev.agentcoordinator.CoordinatorApp;
import dev.agentcoordinator.RunningCoordinator;
import dev.agentcoordinator.config.CoordinatorSettings;
import dev.agentcoordinator.infra.Infrastructure;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Main class of the coordinator JVM the harness forks ({@link CoordinatorProcess}): the coordinator
 * alone in its JVM, so its heap and threads can be measured without the harness's own. Settings come
 * from {@code -Dcoordinator.*} system properties, exactly as for a user.
 *
 * <p>Talks to the harness in lines starting with {@link #PREFIX} on stdout (everything else there is
 * the coordinator's log); reads commands from stdin: {@code stats} (GC, then heap / threads / CPU),
 * {@code cpu} (CPU time and bytes allocated, no GC) and {@code quit}.
 */
public final class CoordinatorFork {
    static final String PREFIX = "BENCH> ";
    /** System property: start only broker, database and migrations (the start-up floor). */
    static final String INFRA_ONLY = "bench.infra-only";

    private CoordinatorFork() {
    }

    public static void main(String[] args) throws Exception {
        long jvmStartMillis = ManagementFactory.getRuntimeMXBean().getStartTime();
        long before = System.nanoTime();
        Map<String, Object> ready = new LinkedHashMap<>();
        AutoCloseable running;
        if (Boolean.getBoolean(INFRA_ONLY)) {
            // the start-up floor: broker, database and migrations, no Camel
            Infrastructure infra = Infrastructure.start(CoordinatorSettings.load());
            running = infra;
            ready.put("broker_url", infra.brokerUrl());
            ready.put("jdbc_url", infra.jdbcUrl());
        } else {
            RunningCoordinator coordinator = CoordinatorApp.start(CoordinatorSettings.load());
            awaitHttp(coordinator.httpUrl() + "/api/workflows");
            running = coordinator;
            ready.put("broker_url", coordinator.brokerUrl());
            ready.put("jdbc_url", coordinator.jdbcUrl());
            ready.put("http_url", coordinator.httpUrl());
        }
        long readyNanos = System.nanoTime() - before;
        Runtime.getRuntime().addShutdownHook(new Thread(() -> closeQuietly(running), "bench-fork-shutdown"));
        ready.put("start_to_ready_ms", readyNanos / 1e6);
        ready.put("jvm_launch_to_ready_ms", System.currentTimeMillis() - jvmStartMillis);
        answer("ready", ready);

        BufferedReader commands = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String command;
        while ((command = commands.readLine()) != null) {
            switch (command.trim()) {
                case "stats" -> answer("stats", stats());
                case "cpu" -> answer("cpu", Map.of("cpu_nanos", cpuNanos(), "allocated_bytes", allocatedBytes()));
                case "quit" -> {
                    closeQuietly(running);
                    answer("stopped", Map.of());
                    System.exit(0);
                }
                default -> answer("error", Map.of("unknown_command", command));
            }
        }
        closeQuietly(running);   // the harness went away
        System.exit(0);
    }

    private static void closeQuietly(AutoCloseable running) {
        try {
            running.close();
        } catch (Exception e) {
            System.err.println("stopping failed: " + e);
        }
    }

    /**
     * The coordinator is ready when its HTTP API answers 200. Asked over a plain socket: the JDK's
     * HttpClient spends a few hundred milliseconds loading itself on first use, which would be
     * counted as the coordinator's start-up.
     */
    private static void awaitHttp(String url) throws Exception {
        URI uri = URI.create(url);
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (true) {
            try (java.net.Socket socket = new java.net.Socket(uri.getHost(), uri.getPort())) {
                socket.setSoTimeout(2000);
                socket.getOutputStream().write(("GET " + uri.getRawPath() + " HTTP/1.0\r\nHost: " + uri.getHost()
                        + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                String statusLine = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.US_ASCII)).readLine();
                if (statusLine != null && statusLine.split(" ").length > 1 && statusLine.split(" ")[1].equals("200")) {
                    return;
                }
            } catch (java.io.IOException notYet) {
                // the server is not listening yet
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("HTTP API " + url + " did not answer 200 within 60 s");
            }
            Thread.sleep(5);
        }
    }

    /** Heap after a full GC, live threads and CPU time consumed so far by this JVM. */
    private static Map<String, Object> stats() {
        System.gc();
        System.gc();
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("heap_used_bytes", ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed());
        s.put("heap_committed_bytes", ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getCommitted());
        s.put("threads", ManagementFactory.getThreadMXBean().getThreadCount());
        s.put("cpu_nanos", cpuNanos());
        return s;
    }

    private static long cpuNanos() {
        return ((OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
    }

    /** Bytes allocated so far by the live threads of this JVM (the consumers live as long as the JVM). */
    private static long allocatedBytes() {
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long total = 0;
        for (long allocated : threads.getThreadAllocatedBytes(threads.getAllThreadIds())) {
            total += Math.max(0, allocated);
        }
        return total;
    }

    private static synchronized void answer(String kind, Map<String, ?> values) {
        StringBuilder line = new StringBuilder(PREFIX).append(kind);
        values.forEach((k, v) -> line.append(' ').append(k).append('=').append(v));
        System.out.println(line);
        System.out.flush();
    }
}
