package dev.agentcoordinator.infra;

import java.nio.file.Path;
import java.util.List;

/** What a test needs to start a JVM of its own on the test classpath. */
public final class TestJvm {

    private TestJvm() {
    }

    /** The java launcher of the running JVM. */
    public static String java() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    /**
     * JVM options for a child JVM a test starts (a coordinator, a database owner): it lives for seconds,
     * and its start-up is what it spends most CPU on. C1 alone compiles for a fraction of the CPU C2 takes
     * to warm up (some 30% less CPU to start a coordinator), and the serial collector runs no GC threads
     * beside it; on a 2-core machine that CPU is the test JVM's too. Neither changes what the child does:
     * no test here measures a child's throughput (the benchmarks start theirs with options of their own).
     * The JMS receive timeout is the tests' own (see pom.xml, surefire's system properties): a stop waits
     * for the receives in progress.
     */
    public static List<String> quickStartOptions() {
        return List.of("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
                "-Dcoordinator.jms.receive-timeout-ms=" + System.getProperty("coordinator.jms.receive-timeout-ms", "1000"));
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
