package dev.agentcoordinator.infra;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The PostgreSQL server that a data directory's {@code postmaster.pid} names, while it runs.
 *
 * <p>The embedded server is a process of its own: when the coordinator's JVM dies without its
 * shutdown (kill -9, a crash, the OOM killer) the server keeps running and holds the data
 * directory, so the next start would fail. The same happens when zonky gives up waiting for a slow
 * start: it throws but leaves the server it launched running. {@link EmbeddedDatabase} finds such a
 * server here and stops it.
 */
final class PostmasterProcess {
    /** zonky's lock file in the data directory, held by the JVM whose embedded server uses it. */
    static final String ZONKY_LOCK = "epg-lock";

    private final ProcessHandle process;
    private final Path dataDir;

    private PostmasterProcess(ProcessHandle process, Path dataDir) {
        this.process = process;
        this.dataDir = dataDir;
    }

    /** The live server named by {@code dataDir/postmaster.pid}, if any. */
    static Optional<PostmasterProcess> of(Path dataDir) {
        return namedProcess(dataDir).filter(p -> isServerOf(p, dataDir).orElse(false)).map(p -> new PostmasterProcess(p, dataDir));
    }

    /**
     * Whether {@code dataDir/postmaster.pid} is left from a server that is gone while its pid now
     * belongs to another live program (or to a process of another PostgreSQL server), and no process
     * works in the directory. PostgreSQL cannot tell such a file from a running server's when that
     * program runs as the same user (or as root), and refuses to start ("lock file already exists");
     * a pid reused after a crash or in a new container is enough.
     */
    static boolean staleLockFileNamesOtherProgram(Path dataDir) {
        return namedProcess(dataDir).flatMap(p -> isServerOf(p, dataDir)).map(server -> !server).orElse(false)
                && !anyProcessWorksIn(dataDir);
    }

    /**
     * Whether a live process has {@code dataDir} as its working directory, as a server's processes
     * have: a backend that outlived its killed server still writes there, and the lock file is what
     * keeps a new server off its shared memory. True when that cannot be read (no /proc).
     */
    private static boolean anyProcessWorksIn(Path dataDir) {
        Path proc = Path.of("/proc");
        if (!Files.isDirectory(proc)) {
            return true;
        }
        Path directory;
        try {
            directory = dataDir.toRealPath();
        } catch (IOException e) {
            return true;
        }
        return ProcessHandle.allProcesses().anyMatch(p -> {
            try {
                return Files.readSymbolicLink(proc.resolve(p.pid() + "/cwd")).equals(directory);
            } catch (IOException | UnsupportedOperationException | SecurityException e) {
                return false;   // gone, or another user's: not a server this user could have started here
            }
        });
    }

    /** The live process {@code dataDir/postmaster.pid} names, whatever program it runs. */
    private static Optional<ProcessHandle> namedProcess(Path dataDir) {
        List<String> lines;
        try {
            lines = Files.readAllLines(dataDir.resolve("postmaster.pid"));
        } catch (IOException e) {
            return Optional.empty();   // none, or being written or removed by a server starting or stopping
        }
        if (lines.size() < 2 || !Path.of(lines.get(1).trim()).normalize().equals(dataDir.normalize())) {
            return Optional.empty();
        }
        try {
            return ProcessHandle.of(Long.parseLong(lines.get(0).trim())).filter(ProcessHandle::isAlive);
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }

    /**
     * Whether the process is the server of {@code dataDir}: the postgres program started with
     * {@code -D dataDir}, not another program nor a server (or a backend) of another directory that
     * has the pid now. Empty when its command line cannot be read (another user's process).
     */
    private static Optional<Boolean> isServerOf(ProcessHandle process, Path dataDir) {
        Optional<String> command = process.info().command();
        Optional<String[]> arguments = process.info().arguments();
        if (command.isEmpty() || arguments.isEmpty()) {
            return Optional.empty();
        }
        if (!Path.of(command.get()).getFileName().toString().equals("postgres")) {
            return Optional.of(false);
        }
        String[] args = arguments.get();
        for (int i = 0; i + 1 < args.length; i++) {
            if (args[i].equals("-D")) {
                return Optional.of(Path.of(args[i + 1]).toAbsolutePath().normalize().equals(dataDir.toAbsolutePath().normalize()));
            }
        }
        return Optional.of(false);
    }

    long pid() {
        return process.pid();
    }

    /** Whether the server was started at or after {@code instant} (a start this JVM attempted itself). */
    boolean startedSince(Instant instant) {
        // /proc gives start times to the clock tick: a second of slack
        return process.info().startInstant().map(started -> !started.isBefore(instant.minusSeconds(1))).orElse(false);
    }

    /**
     * Whether a live JVM holds the data directory (zonky's lock file): then the server is that
     * instance's and not left over.
     */
    static boolean heldByAnotherInstance(Path dataDir) throws IOException {
        return FileLocks.isHeld(dataDir.resolve(ZONKY_LOCK));
    }

    /**
     * Stops the server: SIGTERM, which PostgreSQL takes as a smart shutdown (its clients died with
     * their JVM), then SIGKILL if it is still running after {@code grace}; the next start recovers
     * from its write-ahead log either way.
     */
    void stop(Duration grace) throws IOException {
        process.destroy();
        if (awaitExit(grace)) {
            return;
        }
        process.destroyForcibly();
        if (!awaitExit(Duration.ofSeconds(10))) {
            throw new IOException("PostgreSQL (pid " + pid() + ") did not stop");
        }
    }

    /** Runs {@code action} (on a JDK thread) once the server has exited. */
    void onExit(Runnable action) {
        process.onExit().thenRun(action);
    }

    /** Waits up to {@code timeout} for the server to exit and be reaped; true when it has. */
    boolean awaitExit(Duration timeout) {
        try {
            process.onExit().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            return true;
        } catch (TimeoutException e) {
            return false;
        } catch (ExecutionException e) {
            return !process.isAlive();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return !process.isAlive();
        }
    }

    /**
     * Waits up to {@code timeout} for a server that was asked to shut down to have exited; true when it
     * has. The server is no child of this JVM (pg_ctl starts it): once it exits its parent, often init,
     * reaps it, and until then it is a zombie, which {@link #awaitExit} ({@code ProcessHandle.onExit})
     * counts as running. Where init reaps late (a container's: about 1.5 s after each stop here) every
     * stop waited for that. A zombie has let go of its port, shared memory and files: it is taken for
     * exited here once its lock file is gone (a clean shutdown removes it; while it names a pid that
     * is still in the process table, PostgreSQL would refuse the directory).
     */
    boolean awaitShutdown(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        try {
            while (!exited()) {
                if (System.nanoTime() - deadline >= 0) {
                    return false;
                }
                Thread.sleep(20);
            }
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return exited();
        }
    }

    private boolean exited() {
        if (!process.isAlive()) {
            return true;
        }
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid()), "stat"));
            // the state follows the program's name, in parentheses
            boolean zombie = stat.substring(stat.lastIndexOf(')') + 1).trim().startsWith("Z");
            return zombie && namedProcess(dataDir).filter(p -> p.pid() == pid()).isEmpty();
        } catch (IOException | RuntimeException e) {
            return !process.isAlive();   // gone meanwhile, or no /proc
        }
    }
}
