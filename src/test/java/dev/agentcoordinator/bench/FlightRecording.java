package dev.agentcoordinator.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A JFR recording of the coordinator JVM over one measurement window, controlled with {@code jcmd}:
 * the profile settings, plus every socket write (threshold 0), so that SQL statements (writes to
 * PostgreSQL's port) and broker round trips can be counted per step.
 */
final class FlightRecording {
    private final long pid;
    private final Path file;

    FlightRecording(long pid, Path file) {
        this.pid = pid;
        this.file = file.toAbsolutePath();
    }

    void start() {
        jcmd("JFR.start", "name=bench", "settings=" + settingsWithEverySocketWrite());
    }

    /** The JDK's profile.jfc with the socket I/O thresholds at 0 ms (JFR.start of JDK 17 takes no such option). */
    private static Path settingsWithEverySocketWrite() {
        try {
            Path profile = Path.of(System.getProperty("java.home"), "lib", "jfr", "profile.jfc");
            String jfc = Files.readString(profile)
                    .replaceAll("(<event name=\"jdk\\.Socket(Read|Write)\">[\\s\\S]*?<setting name=\"threshold\"[^>]*>)[^<]*", "$10 ms");
            Path custom = Files.createTempFile("bench-profile", ".jfc");
            Files.writeString(custom, jfc);
            return custom;
        } catch (IOException e) {
            throw new IllegalStateException("cannot prepare the JFR settings", e);
        }
    }

    void stop(long steps) {
        jcmd("JFR.stop", "name=bench", "filename=" + file);
        System.out.printf("    flight recording of the coordinator JVM over %d steps: %s%n", steps, file);
    }

    private void jcmd(String... command) {
        List<String> line = new java.util.ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(), Long.toString(pid)));
        line.addAll(List.of(command));
        try {
            Process process = new ProcessBuilder(line).redirectErrorStream(true).start();
            String out = new String(process.getInputStream().readAllBytes());
            if (process.waitFor() != 0 || out.contains("Could not") || out.contains("rror")) {
                throw new IllegalStateException("jcmd " + String.join(" ", command) + " failed: " + out);
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot run jcmd", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
