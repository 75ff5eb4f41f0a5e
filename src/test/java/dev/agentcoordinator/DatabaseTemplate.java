package dev.agentcoordinator;

import dev.agentcoordinator.infra.EmbeddedDatabase;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.stream.Stream;

/**
 * An initialised PostgreSQL cluster, made once per test JVM and copied into the data folder of each
 * coordinator or database a test starts fresh. initdb takes 1.4 s of a start on this machine (most of it
 * syncing 39 MB to disk), the copy about 0.1 s; the suite starts some eighty fresh clusters. The copy is what
 * initdb would have left, started and stopped once. The schema is not in it: each database migrates its own,
 * so that its identity (ReloadNotices: the first migration's time) is its own, as a fresh database's is.
 * Tests of a first start (initdb) do not use it.
 */
public final class DatabaseTemplate {
    private static Path cluster;

    private DatabaseTemplate() {
    }

    /** {@code dataDir} (a coordinator's {@code coordinator.data.dir}), its {@code postgres} folder seeded unless it has one. */
    public static Path seeded(Path dataDir) {
        seedCluster(dataDir.resolve("postgres"));
        return dataDir;
    }

    /** Copies the template cluster to {@code clusterDir} (an embedded database's data directory) unless it exists. */
    public static Path seedCluster(Path clusterDir) {
        if (Files.exists(clusterDir)) {
            return clusterDir;   // a folder in use (a restart on the same data) stays as it is
        }
        Path source = cluster();
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
        return clusterDir;
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
}
