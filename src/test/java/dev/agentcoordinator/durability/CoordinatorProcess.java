package dev.agentcoordinator.durability;

import dev.agentcoordinator.CoordinatorApp;
import dev.agentcoordinator.infra.TestJvm;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.awaitility.Awaitility.await;

/**
 * A coordinator in a JVM of its own ({@code java -cp <test classpath> CoordinatorApp}), on the
 * broker and database of {@link OwnedInfrastructure}, running the workflows of
 * src/test/resources/durability/workflows. {@link #kill()} is SIGKILL: no shutdown hook runs.
 */
public final class CoordinatorProcess implements AutoCloseable {
    public static final Path WORKFLOWS = Path.of("src/test/resources/durability/workflows").toAbsolutePath();
    private static final String STARTED = "Agent Coordinator started";
    private static final String HTTP_LINE = "  HTTP API:  ";

    private final String instanceId;
    private final Path log;
    private final Process process;

    private CoordinatorProcess(String instanceId, Path log, Process process) {
        this.instanceId = instanceId;
        this.log = log;
        this.process = process;
    }

    private static CoordinatorProcess serving;

    /**
     * One coordinator process for the tests that only feed it bad or repeated input (cases 4 to 6):
     * started once per test JVM, killed when the JVM ends.
     */
    public static synchronized CoordinatorProcess serving(OwnedInfrastructure infra) throws IOException {
        if (serving == null || !serving.isAlive()) {
            serving = start(infra, "serving");
            CoordinatorProcess started = serving;
            Runtime.getRuntime().addShutdownHook(new Thread(started::kill));
        }
        return serving;
    }

    /** Starts a coordinator and waits until it says it started. */
    public static CoordinatorProcess start(OwnedInfrastructure infra, String instanceId) throws IOException {
        return start(infra, instanceId, Map.of());
    }

    public static CoordinatorProcess start(OwnedInfrastructure infra, String instanceId, Map<String, String> extra) throws IOException {
        Path log = Files.createTempFile(infra.root(), "coordinator-" + instanceId + "-", ".log");
        List<String> command = new ArrayList<>(List.of(
                TestJvm.java(), "-Xmx384m"));
        command.addAll(TestJvm.quickStartOptions());   // it had -XX:+UseSerialGC already
        command.addAll(List.of(TestJvm.vertxCacheIn(infra.root()), "-cp", TestJvm.classpath()));
        Map<String, String> settings = new java.util.LinkedHashMap<>(Map.of(
                "broker.url", infra.brokerUrl(),
                "db.url", infra.jdbcUrl(),
                "db.user", "postgres",
                "http.port", "0",
                "demo-agents.enabled", "false",
                "workflows.dir", WORKFLOWS.toString(),
                "data.dir", infra.root().resolve("data-" + instanceId).toString(),
                "supervisor.period-ms", "100",
                "instance-id", instanceId));
        settings.putAll(extra);
        settings.forEach((key, value) -> command.add("-Dcoordinator." + key + "=" + value));
        command.add(CoordinatorApp.class.getName());
        Process process = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
        CoordinatorProcess coordinator = new CoordinatorProcess(instanceId, log, process);
        try {
            await().atMost(Duration.ofSeconds(180)).pollInterval(Duration.ofMillis(100)).until(() -> {
                if (!process.isAlive()) {
                    throw new IllegalStateException("coordinator " + instanceId + " exited with " + process.exitValue()
                            + "; its log " + log + ":\n" + coordinator.logTail());
                }
                return coordinator.logText().contains(STARTED);
            });
        } catch (RuntimeException e) {
            coordinator.kill();
            throw e;
        }
        return coordinator;
    }

    /** Surefire runs tests from a manifest-only jar; it publishes the real class path separately. */
    /** kill -9: the JVM ends at once, in whatever it was doing. */
    public void kill() {
        process.destroyForcibly();
        try {
            process.waitFor();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * SIGTERM, as a service manager or Ctrl-C: the coordinator stops in its own order (its shutdown hook); waits up to
     * {@code within} for the JVM to end and returns its exit code, or kills it and fails.
     */
    public int terminate(Duration within) throws InterruptedException {
        process.toHandle().destroy();
        if (!process.waitFor(within.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)) {
            kill();
            throw new IllegalStateException("coordinator " + instanceId + " had not stopped " + within + " after SIGTERM; its log "
                    + log + ":\n" + logTail());
        }
        return process.exitValue();
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    public String instanceId() {
        return instanceId;
    }

    public long pid() {
        return process.pid();
    }

    public Path log() {
        return log;
    }

    public String logText() {
        try {
            return Files.readString(log, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }

    /** Base URL of its HTTP server, from the summary it prints once started (its port is the OS's choice). */
    public String httpUrl() {
        String line = logText().lines().filter(l -> l.startsWith(HTTP_LINE)).findFirst()
                .orElseThrow(() -> new IllegalStateException("no \"" + HTTP_LINE.trim() + "\" line in " + log));
        return line.substring(HTTP_LINE.length(), line.indexOf("/api/"));
    }

    public String logTail() {
        String text = logText();
        return text.length() > 6000 ? text.substring(text.length() - 6000) : text;
    }

    @Override
    public void close() {
        kill();
    }
}
