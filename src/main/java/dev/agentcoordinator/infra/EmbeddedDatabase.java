package dev.agentcoordinator.infra;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

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

    private final int port;
    private final Path dataDir;
    private EmbeddedPostgres postgres;
    private String jdbcUrl;

    /** @param port the TCP port to listen on; 0 picks a free one */
    public EmbeddedDatabase(int port, Path dataDir) {
        this.port = port;
        this.dataDir = dataDir.toAbsolutePath();
    }

    /** Starts the server and returns its JDBC URL, {@code jdbc:postgresql://127.0.0.1:<port>/postgres}. */
    public synchronized String start() throws IOException {
        if (postgres != null) {
            return jdbcUrl;
        }
        Files.createDirectories(dataDir);
        EmbeddedPostgres.Builder builder = EmbeddedPostgres.builder()
                .setDataDirectory(dataDir)
                .setCleanDataDirectory(false)
                // Stopped by close(), in the application's shutdown order (after Camel), not by a hook of its own.
                .setRegisterShutdownHook(false)
                // zonky turns synchronous_commit off for fast tests; a commit the coordinator relies on
                // (a reply acknowledged after its step was recorded) must survive a server crash
                .setServerConfig("synchronous_commit", "on");
        if (port != 0) {
            builder.setPort(port);   // zonky picks a free port itself otherwise
        }
        try {
            postgres = builder.start();
        } catch (IOException e) {
            if (port != 0 && !FreePort.isBindable(HOST, port)) {   // zonky only says it gave up waiting
                throw new IOException("the embedded database could not listen on " + HOST + ":" + port
                        + " (coordinator.db.embedded.port): is the port in use? Port 0 picks a free one.", e);
            }
            throw e;
        }
        jdbcUrl = url(postgres.getPort());
        LOG.info("Embedded PostgreSQL listening on {} (data in {})", jdbcUrl, dataDir);
        return jdbcUrl;
    }

    private static String url(int port) {
        return "jdbc:postgresql://" + HOST + ":" + port + "/" + DATABASE;
    }

    /** The JDBC URL the server will have once started; needs a port chosen up front. */
    public String jdbcUrlBeforeStart() {
        if (port == 0) {
            throw new IllegalStateException("the URL of an embedded database on a port of its choosing is known only once it runs");
        }
        return url(port);
    }

    public synchronized String jdbcUrl() {
        if (jdbcUrl == null) {
            throw new IllegalStateException("embedded database not started");
        }
        return jdbcUrl;
    }

    @Override
    public synchronized void close() throws IOException {
        if (postgres != null) {
            postgres.close();
            postgres = null;
            LOG.info("Embedded PostgreSQL stopped");
        }
    }
}
