package dev.agentcoordinator.infra;

import dev.agentcoordinator.engine.TestCoordinator;
import org.springframework.jdbc.core.JdbcTemplate;

import java.util.UUID;

/**
 * A database of its own for one test, on the shared test PostgreSQL (the engine tests' coordinator's), dropped at
 * close: that server lives as long as the test JVM, and a migrated database left behind holds its files and catalog rows
 * for every test after it. Dropped WITH (FORCE): a run under test may leave a connection open on it.
 */
final class ThrowawayDatabase implements AutoCloseable {

    private final String name;
    private final String url;

    private ThrowawayDatabase(String name, String url) {
        this.name = name;
        this.url = url;
    }

    /** {@code prefix} (lower-case letters and _) and 12 random hex digits name it. */
    static ThrowawayDatabase create(String prefix) {
        String name = prefix + "_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
        server().execute("CREATE DATABASE " + name);
        String url = TestCoordinator.shared().jdbcUrl().replaceFirst("/[^/?]+(\\?.*)?$", "/" + name);
        return new ThrowawayDatabase(name, url);
    }

    String name() {
        return name;
    }

    /** Its JDBC URL (user postgres, no password, as the shared server's). */
    String url() {
        return url;
    }

    /** Whether a database of this name is on the shared server. */
    static boolean exists(String name) {
        return Boolean.TRUE.equals(server().queryForObject("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = ?)",
                Boolean.class, name));
    }

    @Override
    public void close() {
        server().execute("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
    }

    private static JdbcTemplate server() {
        return new JdbcTemplate(TestCoordinator.shared().dataSource());
    }
}
