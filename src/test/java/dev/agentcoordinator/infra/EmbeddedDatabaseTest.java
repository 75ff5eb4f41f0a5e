package dev.agentcoordinator.infra;

import dev.agentcoordinator.StartsChildProcesses;
import com.zaxxer.hikari.HikariDataSource;
import dev.agentcoordinator.DatabaseTemplate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;
import org.junit.jupiter.api.parallel.ResourceAccessMode;
import org.junit.jupiter.api.parallel.ResourceLock;
import org.junit.jupiter.api.io.TempDir;

import javax.sql.DataSource;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

// Its methods run side by side (@Execution(CONCURRENT), junit-platform.properties): each has a data directory and a
// port of its own, and most of their time is a server's start, a child JVM's or a restart's wait. The one that wants
// no ERROR line at all on the root logger runs alone (ROOT_LOG, READ_WRITE): a restart failed on purpose next door
// logs one. The others only look for lines of their own in it.
@StartsChildProcesses
class EmbeddedDatabaseTest {
    private static final String ROOT_LOG = "the root logger's lines";

    @TempDir
    Path root;
    /**
     * Under the test's own folder: the lock file beside it ({@code postgres.lock}) stays there too. An initialised
     * cluster ({@link DatabaseTemplate}), but for the tests of a first start, which take {@link #empty()}.
     */
    Path dataDir;

    @org.junit.jupiter.api.BeforeEach
    void dataDir() {
        dataDir = DatabaseTemplate.seedCluster(root.resolve("postgres"));
    }

    /** An empty data directory, which the server's first start initialises (initdb). */
    private Path empty() throws IOException {
        return java.nio.file.Files.createDirectories(root.resolve("empty"));
    }

    @Test
    @Execution(ExecutionMode.CONCURRENT)
    @ResourceLock(value = ROOT_LOG, mode = ResourceAccessMode.READ)
    void startsMigratesAndKeepsItsDataAcrossARestart() throws Exception {
        dataDir = empty();
        try (EmbeddedDatabase database = new EmbeddedDatabase(0, dataDir);
             HikariDataSource pool = Database.pool(database.start(), EmbeddedDatabase.USER, "", 2)) {
            assertThat(database.jdbcUrl()).matches("jdbc:postgresql://127\\.0\\.0\\.1:\\d+/postgres");
            Database.migrate(pool);
            assertThat(tables(pool)).contains("workflow_executions", "workflow_step_executions",
                    "agent_events", "agent_messages", "resource_locks");
            execute(pool, "INSERT INTO agent_events (id, event_key, type) VALUES ('e1', 'k1', 'TEST')");
        }

        try (EmbeddedDatabase database = new EmbeddedDatabase(0, dataDir);
             HikariDataSource pool = Database.pool(database.start(), EmbeddedDatabase.USER, "", 2);
             dev.agentcoordinator.engine.CapturedLog log = dev.agentcoordinator.engine.CapturedLog.ofRoot()) {
            // an index build cut off leaves an invalid index, which a CREATE INDEX ... IF NOT EXISTS keeps (V13): told at start
            execute(pool, "CREATE TABLE twice (v int)");
            execute(pool, "INSERT INTO twice VALUES (1), (1)");
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> execute(pool, "CREATE UNIQUE INDEX CONCURRENTLY twice_v ON twice (v)"));
            assertThat(Database.migrate(pool).migrationsExecuted).isZero();
            assertThat(count(pool, "SELECT count(*) FROM agent_events WHERE event_key = 'k1'")).isEqualTo(1);
            assertThat(log.lines()).anyMatch(line -> line.startsWith("WARN Invalid indexes in the schema") && line.contains("twice_v"));
        }
    }

    @Test
    @Execution(ExecutionMode.CONCURRENT)
    @ResourceLock(value = ROOT_LOG, mode = ResourceAccessMode.READ)
    void aServerLeftRunningByAKilledCoordinatorIsStoppedAndTheDirectoryStartsAgain() throws Exception {
        List<String> command = new ArrayList<>(List.of(TestJvm.java()));
        command.addAll(TestJvm.quickStartOptions());
        command.addAll(List.of("-cp", TestJvm.classpath(), EmbeddedDatabaseOwner.class.getName(), dataDir.toString()));
        Process owner = new ProcessBuilder(command).redirectErrorStream(true).start();
        try (BufferedReader output = new BufferedReader(new InputStreamReader(owner.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = output.readLine()) != null && !line.contains(EmbeddedDatabaseOwner.READY)) {
                // the owner's log
            }
            assertThat(line).as("the owner JVM started its database").isNotNull();
        }
        owner.destroyForcibly().waitFor();   // kill -9: no shutdown hook stops the server
        long leftover = PostmasterProcess.of(dataDir).orElseThrow(() -> new AssertionError("no server was left running")).pid();

        try (EmbeddedDatabase database = new EmbeddedDatabase(0, dataDir);
             HikariDataSource pool = Database.pool(database.start(), EmbeddedDatabase.USER, "", 2)) {
            assertThat(ProcessHandle.of(leftover).filter(ProcessHandle::isAlive)).as("the leftover server").isEmpty();
            assertThat(count(pool, "SELECT 1")).isEqualTo(1);
        } finally {
            ProcessHandle.of(leftover).ifPresent(ProcessHandle::destroyForcibly);   // the test leaves no server behind
        }
    }

    @Test
    @Execution(ExecutionMode.CONCURRENT)
    @ResourceLock(value = ROOT_LOG, mode = ResourceAccessMode.READ)
    void aLockFileLeftByAGoneServerWhosePidAnotherProgramNowHasDoesNotKeepTheDirectoryFromStarting() throws Exception {
        List<String> lockFile;
        try (EmbeddedDatabase database = new EmbeddedDatabase(0, dataDir)) {
            database.start();
            lockFile = new ArrayList<>(java.nio.file.Files.readAllLines(dataDir.resolve("postmaster.pid")));
        }
        // as after a crash: the server is gone, its file stays, and another program has its pid now (not
        // this JVM: PostgreSQL ignores the pid of the process that started pg_ctl)
        Process other = new ProcessBuilder("sleep", "120").start();
        try {
            lockFile.set(0, Long.toString(other.pid()));
            java.nio.file.Files.write(dataDir.resolve("postmaster.pid"), lockFile);

            try (EmbeddedDatabase database = new EmbeddedDatabase(0, dataDir);
                 HikariDataSource pool = Database.pool(database.start(), EmbeddedDatabase.USER, "", 2)) {
                assertThat(count(pool, "SELECT 1")).isEqualTo(1);
            }
            assertThat(other.isAlive()).as("the program that has the pid is left alone").isTrue();
        } finally {
            other.destroyForcibly();
        }
    }

    @Test
    @Execution(ExecutionMode.CONCURRENT)
    @ResourceLock(value = ROOT_LOG, mode = ResourceAccessMode.READ)
    void aLockFileIsKeptWhileAProcessStillWorksInTheDirectory() throws Exception {
        // a backend that outlived its killed server works in the data directory; its lock file is what
        // keeps a new server off the old one's shared memory
        Process elsewhere = new ProcessBuilder("sleep", "120").start();
        Process inside = null;
        try {
            java.nio.file.Files.write(dataDir.resolve("postmaster.pid"), List.of(Long.toString(elsewhere.pid()), dataDir.toString()));
            assertThat(PostmasterProcess.staleLockFileNamesOtherProgram(dataDir)).isTrue();

            inside = new ProcessBuilder("sleep", "120").directory(dataDir.toFile()).start();
            assertThat(PostmasterProcess.staleLockFileNamesOtherProgram(dataDir)).as("a process works in the directory").isFalse();
        } finally {
            elsewhere.destroyForcibly();
            if (inside != null) {
                inside.destroyForcibly();
            }
        }
    }

    @Test
    @Execution(ExecutionMode.CONCURRENT)
    @ResourceLock(value = ROOT_LOG, mode = ResourceAccessMode.READ_WRITE)
    void aServerThatDiesWhileInUseIsStartedAgainOnItsPortWithItsData() throws Exception {
        try (dev.agentcoordinator.engine.CapturedLog log = dev.agentcoordinator.engine.CapturedLog.ofRoot();
             EmbeddedDatabase database = new EmbeddedDatabase(0, dataDir);
             HikariDataSource pool = Database.pool(database.start(), EmbeddedDatabase.USER, "", 2)) {
            String url = database.jdbcUrl();
            execute(pool, "CREATE TABLE kept (v text)");
            execute(pool, "INSERT INTO kept VALUES ('before the crash')");
            PostmasterProcess crashed = PostmasterProcess.of(dataDir).orElseThrow();
            ProcessHandle.of(crashed.pid()).orElseThrow().destroyForcibly();   // kill -9, as the OOM killer would

            await().atMost(Duration.ofSeconds(60)).ignoreExceptions()
                    .until(() -> count(pool, "SELECT count(*) FROM kept WHERE v = 'before the crash'") == 1);
            assertThat(database.jdbcUrl()).as("the same port, where the pool looks").isEqualTo(url);
            assertThat(PostmasterProcess.of(dataDir).orElseThrow().pid()).isNotEqualTo(crashed.pid());
            // one WARN tells the restart; zonky's ERROR about stopping the server already gone is not an operator's page
            assertThat(log.lines()).anyMatch(line -> line.startsWith("WARN Embedded PostgreSQL (pid " + crashed.pid() + ") exited on its own"));
            assertThat(log.atLeast(org.apache.logging.log4j.Level.ERROR)).isEmpty();
        }
        // a stop asked for is no crash: nothing starts it again
        await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(5)).until(() -> PostmasterProcess.of(dataDir).isEmpty());
    }

    /**
     * A server that could not be started again once (its control file unreadable for a while, as after a full disk) is
     * started at a later attempt. zonky kept the lock of the failed start, and every later attempt failed at once
     * (OverlappingFileLockException) until a garbage collection happened to drop it: an operator's coordinator, on a
     * quiet heap, stayed without its database until restarted by hand. This JVM collects often, so the test shows the
     * restart's course rather than that lock.
     */
    /**
     * A server that exits while starting (here its control file is unreadable, as after a disk fault) fails the start at
     * once, naming what it wrote: zonky asked the port until the start's timeout (60 s) and said only "Gave up waiting
     * for server to start", and the server's own lines were dropped with zonky's INFO log lines.
     */
    @Test
    @Execution(ExecutionMode.CONCURRENT)
    void aServerThatExitsWhileStartingFailsTheStartAtOnceNamingWhy() throws Exception {
        java.nio.file.Path control = dataDir.resolve("global").resolve("pg_control");
        java.util.Set<java.nio.file.attribute.PosixFilePermission> readable = java.nio.file.Files.getPosixFilePermissions(control);
        java.nio.file.Files.setPosixFilePermissions(control, java.util.Set.of());
        try (EmbeddedDatabase database = new EmbeddedDatabase(0, dataDir)) {
            long started = System.nanoTime();
            assertThatThrownBy(database::start).isInstanceOf(IOException.class)
                    .hasMessageContaining("the embedded PostgreSQL exited while starting (data in " + dataDir + ")")
                    .hasMessageContaining("global/pg_control")
                    .hasMessageContaining("Permission denied")
                    .hasMessageContaining(database.serverLog().toString());
            assertThat(Duration.ofNanos(System.nanoTime() - started)).as("well before the start's timeout")
                    .isLessThan(Duration.ofSeconds(30));
            assertThat(database.serverLog()).content().contains("could not open file");
        } finally {
            java.nio.file.Files.setPosixFilePermissions(control, readable);
        }
    }

    /**
     * Waits for a failed restart of {@code database}'s server, named by its port: the root log has the lines of the tests
     * running beside this one too, and another's failed restart let a test go on while its own server still ran (its
     * "other" server then found the socket's lock file taken and exited, and its start gave up after 60 s).
     */
    private static void awaitFailedRestart(dev.agentcoordinator.engine.CapturedLog log, int port) {
        String failed = "ERROR Embedded PostgreSQL did not start again on port " + port + ";";
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100))
                .until(() -> log.lines().stream().anyMatch(line -> line.startsWith(failed)));
    }

    private static int portOf(EmbeddedDatabase database) {
        return Integer.parseInt(database.jdbcUrl().replaceAll(".*:(\\d+)/.*", "$1"));
    }

    @Test
    @Execution(ExecutionMode.CONCURRENT)
    @ResourceLock(value = ROOT_LOG, mode = ResourceAccessMode.READ)
    void aServerThatFailsToStartAgainOnceStartsAtALaterAttempt() throws Exception {
        java.nio.file.Path control = dataDir.resolve("global").resolve("pg_control");
        try (dev.agentcoordinator.engine.CapturedLog log = dev.agentcoordinator.engine.CapturedLog.ofRoot();
             EmbeddedDatabase database = new EmbeddedDatabase(0, dataDir, Duration.ofSeconds(5));
             HikariDataSource pool = Database.pool(database.start(), EmbeddedDatabase.USER, "", 2)) {
            execute(pool, "CREATE TABLE kept (v text)");
            int port = portOf(database);
            java.util.Set<java.nio.file.attribute.PosixFilePermission> readable = java.nio.file.Files.getPosixFilePermissions(control);
            java.nio.file.Files.setPosixFilePermissions(control, java.util.Set.of());
            try {
                ProcessHandle.of(PostmasterProcess.of(dataDir).orElseThrow().pid()).orElseThrow().destroyForcibly();
                awaitFailedRestart(log, port);
            } finally {
                java.nio.file.Files.setPosixFilePermissions(control, readable);
            }
            await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() -> count(pool, "SELECT count(*) FROM kept") == 0);
        }
    }

    /**
     * While a crashed server is down, another server (of a copy of the same cluster, as two coordinators' or tests' may
     * be) binds its port before the restart: the pool's new connections went to that server's database. Its start here
     * is made to wait: the crashed server's control file is unreadable, so its restarts fail until it is readable again.
     */
    @Test
    @Execution(ExecutionMode.CONCURRENT)
    @ResourceLock(value = ROOT_LOG, mode = ResourceAccessMode.READ)
    void aServerThatBindsTheCrashedServersPortBeforeItsRestartGetsNoneOfThePoolsConnections() throws Exception {
        Path otherDir = DatabaseTemplate.seedCluster(root.resolve("other"));
        java.nio.file.Path control = dataDir.resolve("global").resolve("pg_control");
        java.util.Set<java.nio.file.attribute.PosixFilePermission> readable = java.nio.file.Files.getPosixFilePermissions(control);
        try (dev.agentcoordinator.engine.CapturedLog log = dev.agentcoordinator.engine.CapturedLog.ofRoot();
             EmbeddedDatabase database = new EmbeddedDatabase(0, dataDir, Duration.ofSeconds(5));
             HikariDataSource pool = Database.lazyPool(database.start(), EmbeddedDatabase.USER, "", 2, null,
                     new Database.Timeouts("fenced", 3_000, 0))) {
            pool.setConnectionInitSql(database.connectionCheck());   // as the coordinator's pools (Infrastructure)
            execute(pool, "CREATE TABLE kept (v text)");
            int port = portOf(database);
            java.nio.file.Files.setPosixFilePermissions(control, java.util.Set.of());
            try {
                ProcessHandle.of(PostmasterProcess.of(dataDir).orElseThrow().pid()).orElseThrow().destroyForcibly();
                awaitFailedRestart(log, port);
                try (EmbeddedDatabase other = new EmbeddedDatabase(port, otherDir)) {
                    other.start();
                    // every try is refused; a busy machine may end one before the pool's attempt got an answer (no cause)
                    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200)).until(() -> {
                        try {
                            throw new AssertionError("the pool handed out a connection to the server of " + dataDirectory(pool));
                        } catch (java.sql.SQLException refused) {
                            java.io.StringWriter trace = new java.io.StringWriter();
                            refused.printStackTrace(new java.io.PrintWriter(trace));
                            return trace.toString().contains("is not the embedded database of " + dataDir);
                        }
                    });
                    try (HikariDataSource otherPool = Database.pool(other.jdbcUrl(), EmbeddedDatabase.USER, "", 1)) {
                        assertThat(count(otherPool, "SELECT count(*) FROM pg_tables WHERE tablename = 'kept'"))
                                .as("the other server, untouched").isZero();
                    }
                }
            } finally {
                java.nio.file.Files.setPosixFilePermissions(control, readable);
            }
            // the other server gone, the restart takes the port again, and the pool its own database
            await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(200)).ignoreExceptions()
                    .until(() -> count(pool, "SELECT count(*) FROM kept") == 0);
        }
    }

    @Test
    @Execution(ExecutionMode.CONCURRENT)
    @ResourceLock(value = ROOT_LOG, mode = ResourceAccessMode.READ)
    void aDirectoryInUseByARunningInstanceIsRefusedNamingIt() throws Exception {
        try (EmbeddedDatabase running = new EmbeddedDatabase(0, dataDir)) {
            running.start();
            assertThatThrownBy(() -> new EmbeddedDatabase(0, dataDir).start())
                    .isInstanceOf(IOException.class)
                    .hasMessageContaining(dataDir.toString())
                    .hasMessageContaining("in use by another running coordinator")
                    .hasMessageContaining("coordinator.data.dir");
            assertThat(running.jdbcUrl()).isNotNull();
            try (HikariDataSource pool = Database.pool(running.jdbcUrl(), EmbeddedDatabase.USER, "", 1)) {
                assertThat(count(pool, "SELECT 1")).as("the running instance's server is untouched").isEqualTo(1);
            }
        }
    }

    /** The loser used to stop the server the winner had just launched (it had "started since" its own attempt). */
    @Test
    @Execution(ExecutionMode.CONCURRENT)
    @ResourceLock(value = ROOT_LOG, mode = ResourceAccessMode.READ)
    void ofTwoInstancesStartedAtOnceOnOneDirectoryOneIsRefusedAndTheOthersServerRuns() throws Exception {
        dataDir = empty();   // both would initialise it
        java.util.concurrent.ExecutorService starts = java.util.concurrent.Executors.newFixedThreadPool(2);
        java.util.concurrent.CountDownLatch go = new java.util.concurrent.CountDownLatch(1);
        try (EmbeddedDatabase first = new EmbeddedDatabase(0, dataDir); EmbeddedDatabase second = new EmbeddedDatabase(0, dataDir)) {
            List<java.util.concurrent.Future<String>> started = java.util.stream.Stream.of(first, second)
                    .map(database -> starts.submit(() -> {
                        go.await();
                        return database.start();
                    })).toList();
            go.countDown();
            List<Object> outcomes = new ArrayList<>();
            for (java.util.concurrent.Future<String> start : started) {
                try {
                    outcomes.add(start.get(120, java.util.concurrent.TimeUnit.SECONDS));
                } catch (java.util.concurrent.ExecutionException e) {
                    outcomes.add(e.getCause());
                }
            }
            assertThat(outcomes).filteredOn(IOException.class::isInstance).singleElement()
                    .satisfies(e -> assertThat(((IOException) e).getMessage()).contains("in use by another running coordinator"));
            String url = (String) outcomes.stream().filter(String.class::isInstance).findFirst().orElseThrow();
            try (HikariDataSource pool = Database.pool(url, EmbeddedDatabase.USER, "", 1)) {
                assertThat(count(pool, "SELECT 1")).as("the server that started runs").isEqualTo(1);
            }
        } finally {
            starts.shutdownNow();
        }
    }

    /**
     * A start on port 0 whose port another server took between the pick and PostgreSQL's bind (in a run of this class: a
     * port freed by a server killed next door, handed out again, and that server's restart binding it first). zonky's
     * readiness check reached the other server, and the start returned its URL: this instance's pool worked in the other
     * directory's database until the other's stop ended its connections ("terminating connection due to administrator
     * command"). The pick here is that port, the race's outcome.
     */
    @Test
    @Execution(ExecutionMode.CONCURRENT)
    @ResourceLock(value = ROOT_LOG, mode = ResourceAccessMode.READ)
    void aStartWhosePortAnotherServerTookBeforeItsBindListensOnAPortOfItsOwn() throws Exception {
        startOnThePortOfAnotherServer(null);
    }

    /**
     * The same race, where zonky's readiness check reached the other server before this directory's server had even
     * written postmaster.pid (a loaded machine: CI). The stop found no server, the start on another port began at once,
     * and the first server, starting late, held the lock file the second's server wanted: it exited ("lock file already
     * exists") and the start gave up after 60 s. Here the first attempt's {@code pg_ctl start} is held (SIGSTOP) for 3 s;
     * the next attempt's may only begin once it has ended.
     */
    @Test
    @Execution(ExecutionMode.CONCURRENT)
    @ResourceLock(value = ROOT_LOG, mode = ResourceAccessMode.READ)
    void aStartThatGaveWayToAnotherServerTriesTheNextPortOnlyOnceItsFirstLaunchHasEnded() throws Exception {
        startOnThePortOfAnotherServer(taken -> holdFirstLaunchAndWatchForTheNext(dataDir, taken, Duration.ofSeconds(3)));
    }

    /**
     * A start on port 0 whose first pick is the port of another server already running: it listens on a port of its
     * own, in its own directory, the other untouched. {@code watch}, if any, runs beside the start, given the taken
     * port, and returns what went wrong meanwhile (empty: nothing).
     */
    private void startOnThePortOfAnotherServer(java.util.function.IntFunction<String> watch) throws Exception {
        Path otherDir = DatabaseTemplate.seedCluster(root.resolve("other"));
        try (EmbeddedDatabase other = new EmbeddedDatabase(0, otherDir);
             HikariDataSource otherPool = Database.pool(other.start(), EmbeddedDatabase.USER, "", 1)) {
            int taken = portOf(other);
            java.util.Iterator<Integer> picks = List.of(taken).iterator();
            java.util.function.IntSupplier pick = () -> picks.hasNext() ? picks.next() : FreePort.on(EmbeddedDatabase.HOST);
            java.util.concurrent.FutureTask<String> watched = new java.util.concurrent.FutureTask<>(
                    () -> watch == null ? "" : watch.apply(taken));
            new Thread(watched, "start-watch").start();
            try (EmbeddedDatabase database = new EmbeddedDatabase(0, dataDir, EmbeddedDatabase.START_TIMEOUT, pick);
                 HikariDataSource pool = Database.pool(database.start(), EmbeddedDatabase.USER, "", 1)) {
                assertThat(watched.get(30, java.util.concurrent.TimeUnit.SECONDS)).as("what went wrong beside the start").isEmpty();
                assertThat(dataDirectory(pool)).as("the directory of the server its URL reaches").isEqualTo(dataDir.toRealPath());
                assertThat(database.jdbcUrl()).doesNotContain(":" + taken + "/");
            }
            assertThat(dataDirectory(otherPool)).as("the other server, untouched").isEqualTo(otherDir.toRealPath());
        }
    }

    /**
     * Stops the {@code pg_ctl start} on {@code directory} and {@code port} this JVM runs, for {@code hold}, then lets it
     * go on; returns, if another launch on the directory began meanwhile, which (empty if none). Found by its port, so
     * that a watch too late for it fails rather than holds the next launch and passes.
     */
    private static String holdFirstLaunchAndWatchForTheNext(Path directory, int port, Duration hold) {
        try {
            ProcessHandle first = await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(2))
                    .until(() -> launchesOn(directory).filter(launch -> launch.info().arguments()
                            .map(args -> String.join(" ", args).contains("-p " + port + " ")).orElse(false)).findFirst(),
                            java.util.Optional::isPresent).orElseThrow();
            signal("STOP", first.pid());
            try {
                long until = System.nanoTime() + hold.toNanos();
                while (System.nanoTime() < until) {
                    java.util.Optional<ProcessHandle> next = launchOn(directory, first.pid());
                    if (next.isPresent()) {
                        return "pg_ctl start (pid " + next.get().pid() + ") began while the first (pid " + first.pid()
                                + ") still ran";
                    }
                    Thread.sleep(5);
                }
                return "";
            } finally {
                signal("CONT", first.pid());
            }
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static java.util.Optional<ProcessHandle> launchOn(Path directory, long besides) {
        return launchesOn(directory).filter(p -> p.pid() != besides).findFirst();
    }

    private static java.util.stream.Stream<ProcessHandle> launchesOn(Path directory) {
        return ProcessHandle.current().descendants().filter(p -> p.info().arguments().map(List::of)
                .filter(args -> args.contains(directory.toString()) && args.contains("start")).isPresent());
    }

    private static void signal(String signal, long pid) throws Exception {
        new ProcessBuilder("kill", "-" + signal, Long.toString(pid)).inheritIO().start().waitFor();
    }

    /**
     * A start on port 0 whose pick a program other than PostgreSQL took before the server's bind: the server exits at
     * once ("could not bind", "Address already in use"), while zonky went on asking the port for a PostgreSQL until the
     * start's timeout (60 s) and the start failed. The pick here is that port, the race's outcome.
     */
    @Test
    @Execution(ExecutionMode.CONCURRENT)
    @ResourceLock(value = ROOT_LOG, mode = ResourceAccessMode.READ)
    void aStartWhosePickAnotherProgramTookBeforeItsBindSoonListensOnAPortOfItsOwn() throws Exception {
        try (java.net.ServerSocket other = new java.net.ServerSocket()) {
            other.bind(new java.net.InetSocketAddress(EmbeddedDatabase.HOST, FreePort.on(EmbeddedDatabase.HOST)));
            int taken = other.getLocalPort();
            java.util.Iterator<Integer> picks = List.of(taken).iterator();
            java.util.function.IntSupplier pick = () -> picks.hasNext() ? picks.next() : FreePort.on(EmbeddedDatabase.HOST);
            long began = System.nanoTime();
            try (EmbeddedDatabase database = new EmbeddedDatabase(0, dataDir, EmbeddedDatabase.START_TIMEOUT, pick);
                 HikariDataSource pool = Database.pool(database.start(), EmbeddedDatabase.USER, "", 1)) {
                // well within the start's timeout, even on a loaded machine: a start here takes about a second
                assertThat(Duration.ofNanos(System.nanoTime() - began)).isLessThan(Duration.ofSeconds(40));
                assertThat(database.jdbcUrl()).doesNotContain(":" + taken + "/");
                assertThat(dataDirectory(pool)).as("the directory of the server its URL reaches").isEqualTo(dataDir.toRealPath());
            }
        }
    }

    private static Path dataDirectory(DataSource dataSource) throws Exception {
        try (Connection c = dataSource.getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SHOW data_directory")) {
            rs.next();
            return Path.of(rs.getString(1)).toRealPath();
        }
    }

    private static List<String> tables(DataSource dataSource) throws Exception {
        List<String> tables = new ArrayList<>();
        try (Connection c = dataSource.getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")) {
            while (rs.next()) {
                tables.add(rs.getString(1));
            }
        }
        return tables;
    }

    private static void execute(DataSource dataSource, String sql) throws Exception {
        try (Connection c = dataSource.getConnection(); Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }

    private static long count(DataSource dataSource, String sql) throws Exception {
        try (Connection c = dataSource.getConnection(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
