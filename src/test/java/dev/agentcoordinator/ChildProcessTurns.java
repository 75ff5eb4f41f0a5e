package dev.agentcoordinator;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Lets one {@link StartsChildProcesses} class at a time run across the test JVMs of one build: each
 * holds an exclusive lock on a file in the build folder (surefire passes it as {@code test.turns.dir})
 * from its first test to its last. Nested classes run inside their outer class's turn.
 */
public final class ChildProcessTurns implements BeforeAllCallback, AfterAllCallback {
    private static final Object MONITOR = new Object();
    private static FileChannel channel;
    private static FileLock turn;
    private static int holders;

    @Override
    public void beforeAll(ExtensionContext context) throws IOException {
        synchronized (MONITOR) {
            if (holders > 0) {
                holders++;
                return;
            }
            Path dir = Path.of(System.getProperty("test.turns.dir", "target"));
            Files.createDirectories(dir);
            channel = FileChannel.open(dir.resolve("child-process-classes.lock"), StandardOpenOption.CREATE,
                    StandardOpenOption.WRITE);
            long asked = System.nanoTime();
            try {
                turn = channel.lock();
            } catch (IOException | RuntimeException e) {
                channel.close();
                channel = null;
                throw e;
            }
            holders = 1;
            long waitedMs = (System.nanoTime() - asked) / 1_000_000;
            if (waitedMs >= 1_000) {
                System.err.printf("%s waited %,d ms for another test JVM's class with child processes%n",
                        context.getRequiredTestClass().getSimpleName(), waitedMs);
            }
        }
    }

    @Override
    public void afterAll(ExtensionContext context) {
        synchronized (MONITOR) {
            if (holders == 0 || --holders > 0) {   // 0: its beforeAll failed to take the turn
                return;
            }
            try {
                turn.release();
                channel.close();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } finally {
                turn = null;
                channel = null;
            }
        }
    }
}
