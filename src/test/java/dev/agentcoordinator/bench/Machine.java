package dev.agentcoordinator.bench;

import com.sun.management.OperatingSystemMXBean;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;

/** What the machine is and how busy it is: cores, memory, load average, CPU time. */
final class Machine {
    private Machine() {
    }

    static int cores() {
        return Runtime.getRuntime().availableProcessors();
    }

    /** MemTotal of /proc/meminfo in MiB, or -1 where there is none. */
    static long memoryMiB() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
                if (line.startsWith("MemTotal:")) {
                    return Long.parseLong(line.replaceAll("\\D", "")) / 1024;
                }
            }
        } catch (IOException | NumberFormatException e) {
            // not Linux
        }
        return -1;
    }

    /** The three load averages of /proc/loadavg, e.g. "0.84 1.02 1.04". */
    static String loadAverage() {
        try {
            String[] parts = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return parts[0] + " " + parts[1] + " " + parts[2];
        } catch (IOException e) {
            return "n/a";
        }
    }

    /** {busy, total} jiffies of all CPUs from /proc/stat. */
    static long[] cpuJiffies() {
        try {
            String[] f = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
            long total = 0;
            for (int i = 1; i < f.length; i++) {
                total += Long.parseLong(f[i]);
            }
            long idle = Long.parseLong(f[4]) + Long.parseLong(f[5]);
            return new long[]{total - idle, total};
        } catch (IOException | RuntimeException e) {
            return new long[]{0, 1};
        }
    }

    /**
     * Waits until the machine is quiet (under a quarter of all cores busy over one second), at most
     * {@code timeoutMs}: a start-up timed right after the previous round's load measures that load's
     * tail (a coordinator's PostgreSQL shutting down, its data folder being deleted). Returns the
     * busy fraction last seen.
     */
    static double awaitQuiet(long timeoutMs) throws InterruptedException {
        long deadline = System.currentTimeMillis() + timeoutMs;
        double busy;
        do {
            long[] before = cpuJiffies();
            Thread.sleep(1000);
            long[] after = cpuJiffies();
            busy = (double) (after[0] - before[0]) / Math.max(1, after[1] - before[1]);
        } while (busy > 0.25 && System.currentTimeMillis() < deadline);
        return busy;
    }

    /**
     * CPU time (user + system) of every live {@code postgres} process so far, in nanoseconds: the
     * embedded database's server and its backends (the pools keep their connections, so backends
     * do not exit inside a window). On a machine running nothing else, that is the database's share.
     */
    static long postgresCpuNanos() {
        return cpuNanos(Path.of("/proc"), "postgres"::equals);
    }

    /**
     * CPU time so far of the JIT compiler threads ({@code C1 CompilerThre…}, {@code C2 CompilerThre…}) of
     * the JVM {@code pid}, in nanoseconds: how far that JVM still is from its steady state.
     */
    static long compilerCpuNanos(long pid) {
        return cpuNanos(Path.of("/proc", Long.toString(pid), "task"),
                comm -> comm.startsWith("C1 CompilerThre") || comm.startsWith("C2 CompilerThre"));
    }

    /** User + system CPU so far of the processes (or threads) under {@code dir} whose name {@code comm} accepts. */
    private static long cpuNanos(Path dir, java.util.function.Predicate<String> comm) {
        long ticks = 0;
        try (var entries = Files.list(dir)) {
            for (Path entry : (Iterable<Path>) entries.filter(d -> d.getFileName().toString().matches("\\d+"))::iterator) {
                try {
                    String stat = Files.readString(entry.resolve("stat"));
                    int open = stat.indexOf('('), close = stat.lastIndexOf(')');
                    if (open < 0 || close < 0 || !comm.test(stat.substring(open + 1, close))) {
                        continue;
                    }
                    // after "pid (comm) ": state is field 3, utime field 14, stime field 15
                    String[] fields = stat.substring(close + 2).split(" ");
                    ticks += Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
                } catch (IOException | RuntimeException e) {
                    // the process or thread exited while being read
                }
            }
        } catch (IOException e) {
            return 0;
        }
        return ticks * 10_000_000L; // USER_HZ is 100 on Linux
    }

    /** CPU time of this (the harness's) JVM so far. */
    static long ownCpuNanos() {
        return ((OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
    }

    /** The checkout the figures belong to: {@code git describe --always --dirty}, or "unknown". */
    static String revision() {
        try {
            Process git = new ProcessBuilder("git", "describe", "--always", "--dirty").redirectErrorStream(true).start();
            String out = new String(git.getInputStream().readAllBytes()).trim();
            return git.waitFor() == 0 && !out.isEmpty() ? out : "unknown";
        } catch (IOException e) {
            return "unknown";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "unknown";
        }
    }

    static String javaVersion() {
        return System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version");
    }
}
