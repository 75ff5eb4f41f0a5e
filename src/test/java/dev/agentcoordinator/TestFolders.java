package dev.agentcoordinator;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * Data folders of what a test JVM shares between its tests (a coordinator, a broker and database):
 * JUnit's {@code @TempDir} ends with one test class, these with the JVM. Each holds a PostgreSQL
 * cluster (about 60 MB), so they are deleted once what runs on them has stopped; without that every
 * {@code mvn verify} left some 600 MB in the temporary folder.
 */
public final class TestFolders {
    private TestFolders() {
    }

    /** A new folder in the temporary folder, named after {@code prefix}. */
    public static Path create(String prefix) {
        try {
            return Files.createTempDirectory(prefix);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * At the JVM's exit, stops {@code user} and then deletes {@code folder}: in one hook, because the
     * JVM runs its shutdown hooks at the same time, and a database still running would keep writing.
     */
    public static void closeThenDeleteAtExit(AutoCloseable user, Path folder) {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                user.close();
            } catch (Exception ignored) {
                // the JVM is going away; the folder goes anyway
            }
            delete(folder);
        }, "test-folder-cleanup"));
    }

    /** Deletes the folder and what it holds; what cannot be deleted stays, the test's result does not depend on it. */
    public static void delete(Path folder) {
        if (!Files.exists(folder)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(folder)) {
            paths.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
        } catch (IOException | UncheckedIOException ignored) {
            // a file vanishing under the walk (a server's last temporary file)
        }
    }
}
