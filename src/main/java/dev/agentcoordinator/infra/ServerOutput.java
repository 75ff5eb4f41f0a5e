package dev.agentcoordinator.infra;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The embedded PostgreSQL's output file, read from where one start's output begins: whether {@code pg_ctl -w start}
 * gave up on the server, and the lines that say why.
 */
final class ServerOutput {
    /** What pg_ctl prints when the server it started exited before it was ready. */
    static final String PG_CTL_GAVE_UP = "pg_ctl: could not start server";
    /** A start's output read at most: the server's lines up to its exit are a few hundred bytes. */
    private static final int MAX_READ = 64 * 1024;
    /** pg_ctl's "waiting for server to start...." has no line end: the server's first line follows it. */
    private static final Pattern PG_CTL_WAITING = Pattern.compile("^waiting for server to start\\.*");
    private static final List<String> PG_CTL_OWN = List.of("stopped waiting", "Examine the log output.");
    /** A server log line's time, zone and pid: "2026-12-08 00:24:05.495 UTC [29156] ". */
    private static final Pattern LOG_PREFIX = Pattern.compile("^\\d{4}-\\d\\d-\\d\\d \\S+ \\S+ \\[\\d+\\] ");
    private static final Pattern SEVERE = Pattern.compile("(FATAL|PANIC|HINT|DETAIL):");
    private static final int MAX_WHY = 1000;

    private final Path file;
    private final long from;

    private ServerOutput(Path file, long from) {
        this.file = file;
        this.from = from;
    }

    /** From the file's present end: what a start about to begin appends. */
    static ServerOutput from(Path file) {
        try {
            return new ServerOutput(file, Files.exists(file) ? Files.size(file) : 0);
        } catch (IOException e) {
            return new ServerOutput(file, 0);
        }
    }

    /**
     * Why the server exited, once pg_ctl gave up on it: its FATAL and PANIC lines with their hints (without time and pid),
     * else all it wrote (a check before its logging starts writes plain lines); empty while pg_ctl has not given up.
     */
    Optional<String> serverExitedDuringStart() {
        String output = read();
        if (!output.contains(PG_CTL_GAVE_UP)) {
            return Optional.empty();
        }
        List<String> written = output.lines()
                .map(line -> PG_CTL_WAITING.matcher(line).replaceFirst(""))
                .map(line -> LOG_PREFIX.matcher(line).replaceFirst("").trim())
                .filter(line -> !line.isEmpty() && !line.startsWith("pg_ctl:") && !PG_CTL_OWN.contains(line))
                .toList();
        List<String> severe = written.stream().filter(line -> SEVERE.matcher(line).lookingAt()).toList();
        String why = String.join(" / ", severe.isEmpty() ? written : severe);
        if (why.isEmpty()) {
            return Optional.of(PG_CTL_GAVE_UP);
        }
        return Optional.of(why.length() > MAX_WHY ? why.substring(0, MAX_WHY) + " …" : why);
    }

    private String read() {
        try (RandomAccessFile in = new RandomAccessFile(file.toFile(), "r")) {
            long length = Math.min(in.length() - from, MAX_READ);
            if (length <= 0) {
                return "";
            }
            byte[] bytes = new byte[(int) length];
            in.seek(from);
            in.readFully(bytes);
            return new String(bytes, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";   // not written yet
        }
    }
}
