package dev.agentcoordinator.infra;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** Whether a running instance holds a lock file (zonky's {@code epg-lock}, Artemis' {@code serverlock.1}). */
final class FileLocks {

    private FileLocks() {
    }

    /**
     * True while another process, or another instance in this JVM, holds a lock on any part of
     * {@code file}. The OS releases a process's locks when it dies, so a lock file left by a killed
     * process is free. (Closing the channel used here may release, at the OS level, a lock this same
     * JVM holds on the file; only tests run two instances on one directory in one JVM.)
     */
    static boolean isHeld(Path file) throws IOException {
        if (!Files.exists(file)) {
            return false;
        }
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
            FileLock taken = channel.tryLock();
            if (taken == null) {
                return true;
            }
            taken.release();
            return false;
        } catch (OverlappingFileLockException e) {
            return true;
        }
    }

    /** The error for an embedded server's data directory that a running coordinator uses. */
    static IOException inUse(String what, Path dataDir, String detail) {
        return new IOException("the " + what + "'s data directory " + dataDir + " is in use by another running coordinator"
                + detail + ": stop that one first (to upgrade or restart it), or give each coordinator its own coordinator.data.dir");
    }
}
