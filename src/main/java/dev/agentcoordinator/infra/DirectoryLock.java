package dev.agentcoordinator.infra;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A coordinator's hold on an embedded server's data directory, taken before the server starts. The
 * servers' own locks come later, after checks that two coordinators started at the same moment both
 * pass: Artemis then waits for its lock for good, and the losing PostgreSQL start stops the server the
 * other one just launched (see EmbeddedDatabase.stopServerStartedSince). This lock is taken at once or
 * refused. The OS drops it when the process dies, so a killed coordinator leaves nothing to clean.
 */
final class DirectoryLock implements AutoCloseable {
    /**
     * The lock files this JVM holds: a second instance here is refused before it opens the file, since
     * closing any channel on a locked file would drop this process's lock at the OS level.
     */
    private static final Set<Path> HELD_HERE = ConcurrentHashMap.newKeySet();

    private final Path file;
    private final FileChannel channel;

    private DirectoryLock(Path file, FileChannel channel) {
        this.file = file;
        this.channel = channel;
    }

    /**
     * Creates what is missing of {@code dir} readable by its owner alone (on a POSIX file system): the broker's journal
     * holds every message as sent, and its files are written readable by all. A folder that exists keeps its permissions.
     */
    static void createOwnerOnly(Path dir) throws IOException {
        if (dir.getFileSystem().supportedFileAttributeViews().contains("posix")) {
            Files.createDirectories(dir, java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
                    java.nio.file.attribute.PosixFilePermissions.fromString("rwx------")));
        } else {
            Files.createDirectories(dir);
        }
    }

    /** Takes the lock of {@code dataDir}, held on {@code lockFile}; {@code what} names the server in the error when it is held. */
    static DirectoryLock take(Path lockFile, Path dataDir, String what) throws IOException {
        Path file = lockFile.toAbsolutePath().normalize();
        if (!HELD_HERE.add(file)) {
            throw FileLocks.inUse(what, dataDir, "");
        }
        try {
            createOwnerOnly(file.getParent());
            FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            FileLock lock;
            try {
                lock = channel.tryLock();
            } catch (IOException | RuntimeException e) {
                channel.close();
                throw e;
            }
            if (lock == null) {
                channel.close();
                throw FileLocks.inUse(what, dataDir, "");
            }
            return new DirectoryLock(file, channel);
        } catch (IOException | RuntimeException e) {
            HELD_HERE.remove(file);
            throw e;
        }
    }

    /** Lets the directory go (the file stays: deleting it could let two others lock two different files). */
    @Override
    public void close() throws IOException {
        try {
            channel.close();
        } finally {
            HELD_HERE.remove(file);
        }
    }
}
