package dev.agentcoordinator.infra;

import java.nio.file.Path;

/**
 * A JVM that owns an embedded database and nothing else, for tests that kill it: starts the server on
 * the data directory given, prints {@link #READY}, and waits to be killed.
 */
public final class EmbeddedDatabaseOwner {
    static final String READY = "embedded database ready";

    private EmbeddedDatabaseOwner() {
    }

    public static void main(String[] args) throws Exception {
        EmbeddedDatabase database = new EmbeddedDatabase(0, Path.of(args[0]));
        database.start();
        System.out.println(READY);
        System.out.flush();
        Thread.sleep(Long.MAX_VALUE);
    }
}
