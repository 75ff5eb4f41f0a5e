package dev.agentcoordinator.infra;

import java.nio.file.Path;
import java.util.Optional;

/** For tests outside this package: the live PostgreSQL server an embedded data directory's postmaster.pid names. */
public final class EmbeddedPostgresProcess {

    private EmbeddedPostgresProcess() {
    }

    public static Optional<ProcessHandle> of(Path dataDir) {
        return PostmasterProcess.of(dataDir.toAbsolutePath()).flatMap(server -> ProcessHandle.of(server.pid()));
    }
}
