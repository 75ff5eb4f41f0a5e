package dev.agentcoordinator.locks;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** The JDBC statements of the locks, in src/main/resources/sql/locks (one file each, positional parameters). */
public final class LockSql {
    private static final Map<String, String> CACHE = new ConcurrentHashMap<>();

    private LockSql() {
    }

    public static String named(String name) {
        return CACHE.computeIfAbsent(name, LockSql::load);
    }

    private static String load(String name) {
        String path = "sql/locks/" + name + ".sql";
        try (InputStream in = LockSql.class.getClassLoader().getResourceAsStream(path)) {
            if (in == null) {
                throw new IllegalStateException("missing SQL resource " + path);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read SQL resource " + path, e);
        }
    }
}
