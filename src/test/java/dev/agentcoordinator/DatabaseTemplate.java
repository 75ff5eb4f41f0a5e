package dev.agentcoordinator;

import com.zaxxer.hikari.HikariDataSource;
import dev.agentcoordinator.infra.Database;
import dev.agentcoordinator.infra.EmbeddedDatabase;
import dev.agentcoordinator.infra.EmbeddedPostgresProcess;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Initialised PostgreSQL clusters, made once per test JVM and copied into the data folder of each coordinator or
 * database a test starts fresh. initdb takes 1.4 s of a start on this machine (most of it syncing 39 MB to disk), the
 * copy about 0.1 s; the suite starts some eighty fresh clusters. The copy is what initdb would have left, started and
 * stopped once.
 * <p>A coordinator's data folder ({@link #seeded}) gets the schema migrated too: Flyway's 55 migrations were most of
 * the rest of a fresh coordinator's database start. Each copy is then given its own identity (ReloadNotices: the
 * first migration's time), as a database migrated on its own has, by PostgreSQL in single-user mode on the copy
 * before any server runs on it. A bare cluster ({@link #seedCluster}) has no schema. Tests of a first start (initdb)
 * use neither.
 */
public final class DatabaseTemplate {
    private static final String NEW_IDENTITY = "UPDATE flyway_schema_history SET installed_on = clock_timestamp();\n";

    private static Path cluster;
    private static Path migrated;
    /** The server program of the embedded clusters (single-user mode gives a copy its identity). */
    private static Path postgres;

    private DatabaseTemplate() {
    }

    /**
     * {@code dataDir} (a coordinator's {@code coordinator.data.dir}), its {@code postgres} folder seeded with a migrated
     * cluster of its own identity unless it has one.
     */
    public static Path seeded(Path dataDir) {
        Path clusterDir = dataDir.resolve("postgres");
        if (!Files.exists(clusterDir)) {   // a folder in use (a restart on the same data) stays as it is
            copy(migrated(), clusterDir);
            giveItsOwnIdentity(clusterDir);
        }
        return dataDir;
    }

    /** Copies the template cluster (no schema) to {@code clusterDir} (an embedded database's data directory) unless it exists. */
    public static Path seedCluster(Path clusterDir) {
        if (!Files.exists(clusterDir)) {   // a folder in use (a restart on the same data) stays as it is
            copy(cluster(), clusterDir);
        }
        return clusterDir;
    }

    private static void copy(Path source, Path clusterDir) {
        try (Stream<Path> paths = Files.walk(source)) {
            for (Path path : (Iterable<Path>) paths::iterator) {
                Path target = clusterDir.resolve(source.relativize(path).toString());
                Files.createDirectories(target.getParent());
                // attributes too: PostgreSQL refuses a data directory that others may read
                Files.copy(path, target, StandardCopyOption.COPY_ATTRIBUTES);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot copy the template cluster to " + clusterDir, e);
        }
    }

    /** A new first-migration time in the copy's flyway_schema_history, written with no server running on it. */
    private static void giveItsOwnIdentity(Path clusterDir) {
        List<String> command = new ArrayList<>();
        if ("root".equals(System.getProperty("user.name"))) {
            command.addAll(List.of("unshare", "-U"));   // as zonky runs the server: PostgreSQL refuses to run as root
        }
        command.addAll(List.of(postgres.toString(), "--single", "-D", clusterDir.toString(), "-F", "-c", "exit_on_error=on",
                "postgres"));
        try {
            Process single = new ProcessBuilder(command).redirectErrorStream(true).start();
            try (var stdin = single.getOutputStream()) {
                stdin.write(NEW_IDENTITY.getBytes(StandardCharsets.UTF_8));
            }
            String output = new String(single.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!single.waitFor(60, TimeUnit.SECONDS) || single.exitValue() != 0) {
                single.destroyForcibly();
                throw new IllegalStateException("cannot give the copy in " + clusterDir + " its own identity: " + output);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot give the copy in " + clusterDir + " its own identity", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted giving the copy in " + clusterDir + " its own identity", e);
        }
    }

    private static synchronized Path cluster() {
        if (cluster == null) {
            Path folder = TestFolders.create("postgres-template");
            Path made = folder.resolve("postgres");
            try (EmbeddedDatabase database = new EmbeddedDatabase(0, made)) {
                database.start();
            } catch (Exception e) {
                throw new IllegalStateException("cannot make the template cluster in " + made, e);
            }
            Runtime.getRuntime().addShutdownHook(new Thread(() -> TestFolders.delete(folder), "postgres-template-cleanup"));
            cluster = made;
        }
        return cluster;
    }

    private static synchronized Path migrated() {
        if (migrated == null) {
            Path folder = TestFolders.create("postgres-template-migrated");
            Path made = seedCluster(folder.resolve("postgres"));
            try (EmbeddedDatabase database = new EmbeddedDatabase(0, made);
                 HikariDataSource pool = Database.pool(database.start(), EmbeddedDatabase.USER, "", 2)) {
                Database.migrate(pool);
                postgres = Path.of(EmbeddedPostgresProcess.of(made).flatMap(server -> server.info().command())
                        .orElseThrow(() -> new IllegalStateException("the template's server program is not known")));
            } catch (Exception e) {
                throw new IllegalStateException("cannot make the migrated template cluster in " + made, e);
            }
            Runtime.getRuntime().addShutdownHook(new Thread(() -> TestFolders.delete(folder), "postgres-template-cleanup"));
            migrated = made;
        }
        return migrated;
    }
}
