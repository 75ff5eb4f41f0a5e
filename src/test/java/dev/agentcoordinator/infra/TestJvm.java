package dev.agentcoordinator.infra;

import java.nio.file.Path;

/** What a test needs to start a JVM of its own on the test classpath. */
public final class TestJvm {

    private TestJvm() {
    }

    /** The java launcher of the running JVM. */
    public static String java() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    /** The test classpath (surefire's, which java.class.path only points to through a manifest jar). */
    public static String classpath() {
        String surefire = System.getProperty("surefire.test.class.path");
        return surefire != null && !surefire.isBlank() ? surefire : System.getProperty("java.class.path");
    }

    /**
     * The option that puts a child JVM's Vert.x file cache folder (the HTTP server's) inside
     * {@code folder}: a child killed on purpose cannot remove it, and it would stay in /tmp.
     */
    public static String vertxCacheIn(Path folder) {
        return "-Dvertx.cacheDirBase=" + folder.toAbsolutePath().resolve("vertx-cache");
    }
}
