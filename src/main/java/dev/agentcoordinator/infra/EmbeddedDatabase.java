package dev.agentcoordinator.infra;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.function.IntSupplier;

/**
 * A real PostgreSQL 15 server started from the zonky binaries jar, for development and tests. The
 * data directory survives restarts of the application (only initialised when empty).
 *
 * <p>When the JVM runs as root, zonky runs the server through {@code unshare -U}, where it appears
 * as {@code nobody} and still owns files created by root; a directory created here therefore works
 * for both root and ordinary users.
 */
public final class EmbeddedDatabase implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedDatabase.class);

    public static final String USER = "postgres";
    /** Where the server listens (zonky's default listen address). */
    public static final String HOST = "127.0.0.1";
    private static final String DATABASE = "postgres";
    /**
     * How long a start may take. zonky's default, 10 s, is shorter than the crash recovery after a
     * kill -9 on a slow disk; and zonky leaves a server it gave up on running (see PostmasterProcess).
     */
    static final Duration START_TIMEOUT = Duration.ofSeconds(60);
    /** How long a server left running gets for a clean shutdown before it is killed. */
    private static final Duration STOP_GRACE = Duration.ofSeconds(30);

    /** The log context key under which zonky stops a server that exited on its own: its logs then are not an operator's concern. */
    static final String STOPPING_EXITED_SERVER = "stoppingExitedDatabase";

    /** How long the restart of a server that exited on its own waits between attempts, at most. */
    private static final Duration RESTART_BACKOFF_MAX = Duration.ofSeconds(30);

    private final int port;
    private final Path dataDir;
    private final Duration startTimeout;
    /**
     * The port a start on port 0 listens on. Not zonky's pick: it binds port 0, where the OS hands out again a port that
     * a server killed a moment ago freed, while that server's restart (here, or in another JVM) is about to bind it.
     */
    private final IntSupplier portPick;
    /** How many ports a start on port 0 tries when another server takes each between the pick and the bind. */
    private static final int PICKS = 3;
    /** A start on port 0's first try, picked at construction so that the URL is known before the start (0: none). */
    private final int pickedAhead;
    private EmbeddedPostgres postgres;
    private String jdbcUrl;
    /** Set by close(): the server's exit from then on is no crash. */
    private boolean closed;
    /** The data directory as its server names it, and its cluster's system identifier: recorded at each start. */
    private String servedDirectory;
    private long systemIdentifier;
    /** This instance's hold on the data directory, from start to close. */
    private DirectoryLock directoryLock;

    /** @param port the TCP port to listen on; 0 picks a free one ({@link FreePort#on}: below the OS's ephemeral range) */
    public EmbeddedDatabase(int port, Path dataDir) {
        this(port, dataDir, START_TIMEOUT);
    }

    /** With a start's wait for the server other than {@link #START_TIMEOUT} (tests of a start that fails). */
    EmbeddedDatabase(int port, Path dataDir, Duration startTimeout) {
        this(port, dataDir, startTimeout, () -> FreePort.on(HOST));
    }

    /** With the pick of a port for a start on port 0 given (tests of a pick that another server takes before the bind). */
    EmbeddedDatabase(int port, Path dataDir, Duration startTimeout, IntSupplier portPick) {
        this(port, dataDir, startTimeout, portPick, 0);
    }

    private EmbeddedDatabase(int port, Path dataDir, Duration startTimeout, IntSupplier portPick, int pickedAhead) {
        this.port = port;
        this.dataDir = dataDir.toAbsolutePath();
        this.startTimeout = startTimeout;
        this.portPick = portPick;
        this.pickedAhead = pickedAhead;
    }

    /**
     * On a port {@code portPick} picks now, so that {@link #jdbcUrlBeforeStart} is known (the coordinator's pools get it
     * before the start). It is still a pick, not a port the user set: when another program takes it before the server
     * binds it, the start picks another, as on port 0 ({@link #jdbcUrl} then differs from {@link #jdbcUrlBeforeStart}).
     */
    static EmbeddedDatabase onPortPickedAhead(Path dataDir, IntSupplier portPick) {
        return new EmbeddedDatabase(0, dataDir, START_TIMEOUT, portPick, portPick.getAsInt());
    }

    /**
     * Starts the server and returns its JDBC URL, {@code jdbc:postgresql://127.0.0.1:<port>/postgres}.
     * Until {@link #close}, a server that exits on its own (killed, out of memory) is started again on
     * the same port and data (see {@link #restartAfterExit}).
     */
    public synchronized String start() throws IOException {
        if (postgres != null) {
            return jdbcUrl;
        }
        closed = false;
        takeDirectory();
        try {
            if (port != 0) {
                return startOn(port, false);
            }
            for (int pick = 1; ; pick++) {
                try {
                    return startOn(pick == 1 && pickedAhead != 0 ? pickedAhead : portPick.getAsInt(), true);
                } catch (PortTakenBeforeBind e) {
                    if (pick == PICKS) {
                        throw e;
                    }
                    LOG.warn("{}: starting on another port", e.getMessage());
                }
            }
        } catch (IOException | RuntimeException e) {
            releaseDirectory();
            throw e;
        }
    }

    /** The port of a start was taken by another program before this one's server could bind it. */
    private static class PortTakenBeforeBind extends IOException {
        PortTakenBeforeBind(String message) {
            super(message);
        }
    }

    /** ... by a server of another data directory. */
    private static final class AnotherServersPort extends PortTakenBeforeBind {
        AnotherServersPort(int port, String directory) {
            super("PostgreSQL of another data directory (" + directory + ") answers on " + HOST + ":" + port
                    + ", taken before the embedded database's server could bind it");
        }
    }

    /** ... by a program that is no server of this directory, while this one's server exited (it could not bind the port). */
    private static final class AnotherProgramsPort extends PortTakenBeforeBind {
        AnotherProgramsPort(int port) {
            super("another program listens on " + HOST + ":" + port + ", taken before the embedded database's server could"
                    + " bind it (the server exited)");
        }
    }

    /**
     * Takes this coordinator's lock of the data directory ({@link DirectoryLock}), if it has not yet; start()
     * does (see EmbeddedBroker#takeDirectory). The lock file sits beside the directory ({@code <dir>.lock}):
     * initdb wants the directory itself empty. Where the parent directory takes no file, the start goes on
     * without it.
     */
    public synchronized void takeDirectory() throws IOException {
        if (directoryLock != null) {
            return;
        }
        Path lockFile = dataDir.resolveSibling(dataDir.getFileName() + ".lock");
        try {
            directoryLock = DirectoryLock.take(lockFile, dataDir, "embedded database");
        } catch (java.nio.file.AccessDeniedException e) {
            LOG.warn("Cannot create {} ({}): two coordinators started at the same moment on {} would not be kept apart",
                    lockFile, e.getMessage(), dataDir);
        }
    }

    private void releaseDirectory() throws IOException {
        if (directoryLock != null) {
            DirectoryLock held = directoryLock;
            directoryLock = null;
            held.close();
        }
    }

    /** @param picked whether {@code port} is a pick for a start on port 0, found free just now (0: zonky picks one) */
    private String startOn(int port, boolean picked) throws IOException {
        Files.createDirectories(dataDir);
        stopLeftoverServer();
        // a connection, not a bind: a restart's check, even a moment's bind, could keep another program's server
        // starting on the port from binding it
        if (port != 0 && !picked && somethingListensOn(port)) {
            throw portInUse(port, null);
        }
        Instant attempt = Instant.now();
        EmbeddedPostgres.Builder builder = EmbeddedPostgres.builder()
                .setDataDirectory(dataDir)
                .setCleanDataDirectory(false)
                .setPGStartupWait(startTimeout)
                // Stopped by close(), in the application's shutdown order (after Camel), not by a hook of its own.
                .setRegisterShutdownHook(false)
                // zonky turns synchronous_commit off for fast tests; a commit the coordinator relies on
                // (a reply acknowledged after its step was recorded) must survive a server crash
                .setServerConfig("synchronous_commit", "on")
                // zonky's readiness check: its wait for an answer (10 s by default) is how long a start given up on
                // (see launch) still waits, when the port's taker accepts connections and never answers
                .setConnectConfig("connectTimeout", "3")
                // the server's own lines (why it exited, a PANIC) are kept, not dropped with zonky's INFO log lines
                .setOutputRedirector(ProcessBuilder.Redirect.appendTo(serverLog().toFile()));
        if (port != 0) {
            builder.setPort(port);   // zonky picks a free port itself otherwise
        }
        try {
            postgres = launch(builder, port);
            checkAnswersFromThisDirectory(postgres.getPort());
        } catch (IOException | RuntimeException e) {
            if (postgres != null) {
                // zonky's readiness check reached another server on the port: this one's server failed to bind
                // it, or will. zonky's stop names this directory alone (pg_ctl -D), and finds no server when it failed.
                awaitServerLaunch(postgres);
                stopQuietly(postgres);
                postgres = null;
            }
            stopServerStartedSince(attempt);
            // zonky locked epg-lock before the start that failed, and its constructor threw without releasing it: the
            // lock stayed in this JVM's table, and every later start failed at once (OverlappingFileLockException), so a
            // server that could not start again once (a full disk) stayed down for good. A new file is a new lock; this
            // instance's own directory lock still keeps other coordinators out.
            // (Not when the lock was another JVM's, "could not lock": its file tells a later start that server is in use.)
            boolean lockedElsewhere = e instanceof IllegalStateException && String.valueOf(e.getMessage()).startsWith("could not lock");
            try {
                if (!lockedElsewhere) {
                    Files.deleteIfExists(dataDir.resolve(PostmasterProcess.ZONKY_LOCK));
                }
            } catch (IOException notDeleted) {
                e.addSuppressed(notDeleted);
            }
            if (e instanceof AnotherServersPort || e instanceof AnotherProgramsPort && picked) {
                throw e;
            }
            if (e instanceof IOException && port != 0 && somethingListensOn(port)) {   // zonky only says it gave up waiting
                throw portInUse(port, e);
            }
            if (asRootWithoutUnshare()) {   // zonky then starts PostgreSQL as root, which refuses to run so
                throw new IOException("the embedded PostgreSQL cannot run as root here: it runs through `unshare -U`, which this"
                        + " system does not permit (Docker's default seccomp profile forbids it). Run the coordinator as a non-root"
                        + " user, give the container --cap-add SYS_ADMIN, or use a database of your own (coordinator.db.url)", e);
            }
            throw e;
        }
        jdbcUrl = url(postgres.getPort());
        LOG.info("Embedded PostgreSQL listening on {} (data in {})", jdbcUrl, dataDir);
        EmbeddedPostgres started = postgres;
        PostmasterProcess.of(dataDir).ifPresent(server -> server.onExit(() -> restartAfterExit(started, server.pid())));
        return jdbcUrl;
    }

    /**
     * Waits for zonky's {@code pg_ctl -w start} to end: once this directory's server is ready or gone. zonky's readiness
     * check can reach another server on the port before this one's server has even written {@code postmaster.pid} (on a
     * loaded machine): a stop then found none, and the server, still starting, took the lock file of the next start on
     * another port, whose server exited at once ("lock file already exists") and the start gave up after 60 s.
     */
    private void awaitServerLaunch(EmbeddedPostgres launched) {
        Process pgCtl = launched.getProcess();
        if (pgCtl == null) {
            return;
        }
        try {
            if (!pgCtl.waitFor(startTimeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)) {
                LOG.warn("pg_ctl start (pid {}) still runs on {} after {} s", pgCtl.pid(), dataDir, startTimeout.toSeconds());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * The output of the server and of initdb and pg_ctl, appended across starts: beside the data directory, as its lock
     * file is (initdb wants the directory empty).
     */
    Path serverLog() {
        return dataDir.resolveSibling(dataDir.getFileName() + ".log");
    }

    /** How often a start looks whether its port was taken while its server is not running; and how many looks in a row tell so. */
    private static final Duration PORT_LOOK = Duration.ofMillis(200);
    private static final int PORT_LOOKS = 3;

    /**
     * zonky's start, on a thread of its own. Its wait for the server only asks the port for a PostgreSQL until the start's
     * timeout: when another program took the port first, the server exits at once ("could not bind ... Address already in
     * use") and the start failed only after 60 s. Meanwhile this looks whether anything answers on the port while no server
     * of this directory runs (a server writes postmaster.pid before it binds): then the start fails at once, once zonky
     * has let go (it is interrupted in its wait; initdb or pg_ctl still running are waited for). So does one whose server
     * exited while starting (pg_ctl gave up on it: a lock file taken, an unreadable control file), naming why: zonky went
     * on asking the port until the timeout, and said only that it gave up waiting.
     */
    private EmbeddedPostgres launch(EmbeddedPostgres.Builder builder, int port) throws IOException {
        ServerOutput output = ServerOutput.from(serverLog());
        java.util.concurrent.FutureTask<EmbeddedPostgres> launch = new java.util.concurrent.FutureTask<>(builder::start);
        Thread thread = new Thread(launch, "embedded-database-launch");
        thread.setDaemon(true);
        thread.start();
        boolean interrupted = false;
        int takenLooks = 0;
        try {
            while (true) {
                try {
                    return launch.get(PORT_LOOK.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
                } catch (java.util.concurrent.TimeoutException stillStarting) {
                    Optional<String> exited = output.serverExitedDuringStart();
                    if (exited.isPresent()) {
                        thread.interrupt();
                        abandon(launch);
                        if (port != 0 && somethingListensOn(port)) {
                            throw new AnotherProgramsPort(port);   // "could not create any TCP/IP sockets": a pick gives way
                        }
                        throw new IOException("the embedded PostgreSQL exited while starting (data in " + dataDir + "): "
                                + exited.get() + " (its output: " + serverLog() + ")");
                    }
                    takenLooks = port != 0 && takenWhileNoServerRuns(port) ? takenLooks + 1 : 0;
                    if (takenLooks == PORT_LOOKS) {
                        thread.interrupt();
                        abandon(launch);
                        throw new AnotherProgramsPort(port);
                    }
                } catch (InterruptedException e) {
                    interrupted = true;   // as before, when zonky ran on this thread: its wait ends, the start goes on
                    thread.interrupt();
                } catch (java.util.concurrent.ExecutionException e) {
                    if (e.getCause() instanceof IOException io) {
                        throw io;
                    }
                    if (e.getCause() instanceof RuntimeException runtime) {
                        throw runtime;
                    }
                    if (e.getCause() instanceof Error error) {
                        throw error;
                    }
                    throw new IOException(e.getCause());
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * Whether something answers on the port while no server of this directory runs. A connection, not a bind: a bind,
     * even for a moment, could itself keep the server from binding the port.
     */
    private boolean takenWhileNoServerRuns(int port) {
        return PostmasterProcess.of(dataDir).isEmpty() && somethingListensOn(port);
    }

    private static boolean somethingListensOn(int port) {
        try (java.net.Socket probe = new java.net.Socket()) {
            probe.connect(new java.net.InetSocketAddress(HOST, port), 1000);
            return true;
        } catch (IOException refused) {
            return false;
        }
    }

    /**
     * Waits for an interrupted zonky start to end (its readiness check ends within its connect timeout) and for the
     * programs it ran on this directory (initdb, pg_ctl), so that the next start has the directory to itself; stops what
     * it may have returned.
     */
    private void abandon(java.util.concurrent.FutureTask<EmbeddedPostgres> launch) {
        long deadline = System.nanoTime() + startTimeout.toNanos();
        try {
            EmbeddedPostgres launched = launch.get(startTimeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
            stopQuietly(launched);
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            LOG.debug("zonky's start, given up: {}", e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        }
        String directory = dataDir.toString();
        ProcessHandle.current().descendants()
                .filter(p -> p.info().arguments().map(args -> java.util.Arrays.asList(args).contains(directory)).orElse(false))
                .forEach(p -> {
                    try {
                        p.onExit().get(Math.max(0, deadline - System.nanoTime()), java.util.concurrent.TimeUnit.NANOSECONDS);
                    } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
                        LOG.warn("{} (pid {}) still runs on {}", p.info().command().orElse("a program"), p.pid(), dataDir);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                });
    }

    /**
     * The server exited while nothing asked it to stop. The pool's connections fail meanwhile and the
     * messages in flight roll back to be redelivered, so it is started again at once, on the same port,
     * where the pool finds it; after a failed attempt the next waits 1, 2, 4 … 30 s.
     */
    private void restartAfterExit(EmbeddedPostgres exited, long pid) {
        Thread restart = new Thread(() -> {
            if (stillRuns(exited, pid)) {
                return;   // watched again
            }
            Duration backoff = Duration.ofSeconds(1);
            while (true) {
                synchronized (this) {
                    if (closed || postgres != exited) {
                        return;   // stopped on purpose, or started again already
                    }
                    int listenPort = exited.getPort();
                    LOG.warn("Embedded PostgreSQL (pid {}) exited on its own: starting it again on port {}", pid, listenPort);
                    // releases zonky's lock on the directory; its pg_ctl stop finds no server
                    stopQuietly(exited);
                    postgres = null;
                    try {
                        startOn(listenPort, false);
                        return;
                    } catch (IOException | RuntimeException e) {
                        postgres = exited;   // still the one to replace on the next attempt
                        LOG.error("Embedded PostgreSQL did not start again on port {}; next attempt in {} s", listenPort,
                                backoff.toSeconds(), e);
                    }
                }
                try {
                    Thread.sleep(backoff.toMillis());
                } catch (InterruptedException e) {
                    return;
                }
                backoff = java.util.Collections.min(java.util.List.of(backoff.multipliedBy(2), RESTART_BACKOFF_MAX));
            }
        }, "embedded-database-restart");
        restart.setDaemon(true);
        restart.start();
    }

    /**
     * Whether the server reported exited still runs, and is watched again. The JDK tells a process that is not its child
     * has exited when it cannot read {@code /proc/<pid>/stat}, which is also the case while this JVM has no file
     * descriptor left (Too many open files: an HTTP client holding 20,000 connections): the server was then taken for
     * gone, "left running by a coordinator that ended without its shutdown", and killed with SIGKILL 30 s later. A
     * {@code stat} of {@code /proc/<pid>} needs no descriptor: while it finds the process, this waits until the JDK can
     * see it again and watches it anew.
     */
    private boolean stillRuns(EmbeddedPostgres exited, long pid) {
        Path proc = Path.of("/proc", Long.toString(pid));
        if (!Files.isDirectory(Path.of("/proc/self")) || !Files.exists(proc)) {
            return false;
        }
        LOG.warn("Embedded PostgreSQL (pid {}) was reported to have exited, but /proc/{} is still there (this JVM may have"
                + " run out of file descriptors: Too many open files): not restarted, watched again once it can be read", pid, pid);
        while (Files.exists(proc)) {
            synchronized (this) {
                if (closed || postgres != exited) {
                    return true;
                }
            }
            Optional<ProcessHandle> handle = ProcessHandle.of(pid);
            if (handle.isPresent()) {
                // still the server of this data folder, not a program that took the pid of a server really gone
                Optional<PostmasterProcess> server = PostmasterProcess.of(dataDir).filter(p -> p.pid() == pid);
                if (server.isEmpty()) {
                    return false;
                }
                server.get().onExit(() -> restartAfterExit(exited, pid));
                return true;
            }
            try {
                Thread.sleep(1000);
            } catch (InterruptedException e) {
                return true;
            }
        }
        return false;
    }

    /** Whether this JVM runs as root where {@code unshare -U} fails (asked only after a failed start). */
    private static boolean asRootWithoutUnshare() {
        if (!"root".equals(System.getProperty("user.name"))) {
            return false;
        }
        try {
            Process unshare = new ProcessBuilder("unshare", "-U", "true").redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            return !unshare.waitFor(10, java.util.concurrent.TimeUnit.SECONDS) || unshare.exitValue() != 0;
        } catch (IOException e) {
            return true;   // no unshare at all
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /**
     * zonky's start only asks whether some server answers on the port. Another one that bound it first (after this
     * start's check of the port, or after its pick) passed for this one's: the pool then worked in the other's database,
     * and that server's stop ended the pool's connections.
     */
    private void checkAnswersFromThisDirectory(int listenPort) throws IOException {
        java.util.Properties login = new java.util.Properties();
        login.setProperty("user", USER);
        login.setProperty("connectTimeout", "10");
        login.setProperty("socketTimeout", "30");
        String directory;
        long identifier;
        try (java.sql.Connection connection = java.sql.DriverManager.getConnection(url(listenPort), login);
             java.sql.Statement statement = connection.createStatement();
             java.sql.ResultSet setting = statement.executeQuery(
                     "SELECT current_setting('data_directory'), (SELECT system_identifier FROM pg_control_system())")) {
            setting.next();
            directory = setting.getString(1);
            identifier = setting.getLong(2);
        } catch (java.sql.SQLException e) {
            throw new IOException("the embedded database's server on " + HOST + ":" + listenPort + " could not be asked for its data directory", e);
        }
        if (!sameDirectory(Path.of(directory))) {
            throw new AnotherServersPort(listenPort, directory);
        }
        servedDirectory = directory;
        systemIdentifier = identifier;
    }

    /**
     * SQL for a pool's {@code connectionInitSql}, run on each new connection (not per statement): it fails the connection
     * when the server is not this instance's, with SQL state 08004 (the server refused the connection; the coordinator
     * takes it for a database outage). While a crashed server is down, before its restart, another server (another
     * coordinator's, a test's) may bind its port; the pool's new connections went to that server's database. The server
     * must name this instance's data directory and have its cluster's system identifier (copies of one cluster share
     * that identifier, hence both).
     */
    public synchronized String connectionCheck() {
        if (servedDirectory == null) {
            throw new IllegalStateException("embedded database not started");
        }
        String directory = servedDirectory.replace("'", "''");
        String body = "BEGIN IF current_setting('data_directory') <> '" + directory + "'"
                + " OR (SELECT system_identifier FROM pg_control_system()) <> " + systemIdentifier
                + " THEN RAISE EXCEPTION 'the PostgreSQL on this port (data directory %, system identifier %) is not the"
                + " embedded database of " + directory.replace("%", "%%") + ": not used',"
                + " current_setting('data_directory'), (SELECT system_identifier FROM pg_control_system())"
                + " USING ERRCODE = '08004'; END IF; END";
        String tag = "$fence$";
        while (body.contains(tag)) {
            tag = tag.replace("fence", "fence_");
        }
        return "DO " + tag + body + tag;
    }

    private boolean sameDirectory(Path directory) {
        try {
            return Files.isSameFile(directory, dataDir);
        } catch (IOException e) {
            return false;   // gone, or not readable by this user: not this instance's
        }
    }

    /**
     * Stops zonky's server of this directory, if any runs: for one that exited or failed to start, zonky's pg_ctl stop
     * finds none and logs an ERROR saying so ("Could not stop postmaster", with a stack trace), left out (log4j2.xml).
     */
    private static void stopQuietly(EmbeddedPostgres server) {
        org.slf4j.MDC.put(STOPPING_EXITED_SERVER, "true");
        try {
            server.close();
        } catch (IOException | RuntimeException e) {
            LOG.debug("zonky's stop of a server that exited or did not start: {}", e.toString());
        } finally {
            org.slf4j.MDC.remove(STOPPING_EXITED_SERVER);
        }
    }

    private static IOException portInUse(int port, Exception cause) {
        return new IOException("the embedded database could not listen on " + HOST + ":" + port
                + " (coordinator.db.embedded.port): is the port in use? Port 0 picks a free one.", cause);
    }

    /**
     * A server still running on this data directory with no live instance holding it was left by a
     * coordinator that died without its shutdown: stopped, or it would keep the directory from starting.
     * So would the lock file of a server that is gone when another program has its pid now.
     */
    private void stopLeftoverServer() throws IOException {
        Optional<PostmasterProcess> server = PostmasterProcess.of(dataDir);
        if (server.isEmpty()) {
            if (PostmasterProcess.staleLockFileNamesOtherProgram(dataDir)) {
                LOG.warn("Removing {}: the server that wrote it is gone and its pid belongs to another program now",
                        dataDir.resolve("postmaster.pid"));
                Files.deleteIfExists(dataDir.resolve("postmaster.pid"));
            }
            return;
        }
        if (PostmasterProcess.heldByAnotherInstance(dataDir)) {
            throw FileLocks.inUse("embedded database", dataDir, " (PostgreSQL pid " + server.get().pid() + ")");
        }
        LOG.warn("Stopping PostgreSQL (pid {}) left running on {} by a coordinator that ended without its shutdown",
                server.get().pid(), dataDir);
        server.get().stop(STOP_GRACE);
    }

    /** A start that failed: the server it launched, if any, must not keep running and hold the directory. */
    private void stopServerStartedSince(Instant attempt) {
        PostmasterProcess.of(dataDir).filter(server -> server.startedSince(attempt)).ifPresent(server -> {
            LOG.warn("Stopping PostgreSQL (pid {}), which did not become ready within {} s", server.pid(), startTimeout.toSeconds());
            try {
                server.stop(STOP_GRACE);
            } catch (IOException e) {
                LOG.error("Could not stop PostgreSQL (pid {}) on {}", server.pid(), dataDir, e);
            }
        });
    }

    private static String url(int port) {
        return "jdbc:postgresql://" + HOST + ":" + port + "/" + DATABASE;
    }

    /**
     * The JDBC URL the server will have once started; needs a port chosen up front. A port picked ahead
     * ({@link #onPortPickedAhead}) that was taken before the bind gives way to another: {@link #jdbcUrl} says which.
     */
    public String jdbcUrlBeforeStart() {
        if (port == 0 && pickedAhead == 0) {
            throw new IllegalStateException("the URL of an embedded database on a port of its choosing is known only once it runs");
        }
        return url(port != 0 ? port : pickedAhead);
    }

    public synchronized String jdbcUrl() {
        if (jdbcUrl == null) {
            throw new IllegalStateException("embedded database not started");
        }
        return jdbcUrl;
    }

    @Override
    public synchronized void close() throws IOException {
        closed = true;
        try {
            stop();
        } finally {
            releaseDirectory();
        }
    }

    private void stop() throws IOException {
        if (postgres != null) {
            Optional<PostmasterProcess> server = PostmasterProcess.of(dataDir);
            postgres.close();
            postgres = null;
            // zonky's stop gives up after 5 s while the server may still write its shutdown checkpoint:
            // a start right after (a restart, a supervisor) would find the directory taken
            if (server.isPresent() && !server.get().awaitShutdown(STOP_GRACE)) {
                LOG.warn("Embedded PostgreSQL (pid {}) still running {} s after its stop", server.get().pid(), STOP_GRACE.toSeconds());
                return;
            }
            LOG.info("Embedded PostgreSQL stopped");
        }
    }
}
