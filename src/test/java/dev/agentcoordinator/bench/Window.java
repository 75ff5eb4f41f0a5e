package dev.agentcoordinator.bench;

import java.util.function.LongSupplier;

/**
 * A steady-state measurement: after a warm-up, how far a counter moved in a fixed window, and what
 * that cost in database transactions and CPU (coordinator JVM, harness JVM, whole machine).
 *
 * <p>The warm-up lasts at least {@code warmUpMs} and until the JIT compilers of the coordinator JVM
 * and of this harness JVM (agents, load, floor driver) have settled (each under {@link #SETTLED_SHARE}
 * of a core over {@link #SETTLE_CHECK_MS}), at most {@code bench.maxWarmUpMs}: on a saturated 2-core
 * machine the coordinator's compilers, which share the cores with the load, took 30 to 45 % of a core
 * for the first 150 s of load, a third of the coordinator JVM's CPU; a window inside that time
 * measures compilation, not the server users run.
 */
record Window(double seconds, long units, long transactions, long coordinatorCpuNanos, long coordinatorAllocatedBytes, long harnessCpuNanos, long postgresCpuNanos, long walBytes,
              long busyJiffies, long totalJiffies, double warmUpSeconds, long compilerCpuNanos) {

    static final long SETTLE_CHECK_MS = 10_000;
    /** /proc/stat counts in USER_HZ ticks, 100 a second on Linux. */
    private static final double NANOS_PER_JIFFY = 1e9 / 100;
    static final double SETTLED_SHARE = 0.05;
    static final long MAX_WARM_UP_MS = Long.getLong("bench.maxWarmUpMs", 300_000);

    static Window measure(long warmUpMs, long measureMs, LongSupplier counter, Db db, CoordinatorProcess coordinator)
            throws InterruptedException {
        return measure(warmUpMs, measureMs, counter, db, coordinator, null);
    }

    /** As above; {@code recording} (may be null) is started after the warm-up and stopped at the end of the window. */
    static Window measure(long warmUpMs, long measureMs, LongSupplier counter, Db db, CoordinatorProcess coordinator,
                          FlightRecording recording) throws InterruptedException {
        long warmUpStart = System.nanoTime();
        Thread.sleep(warmUpMs);
        awaitJitSettled(coordinator.pid(), warmUpStart);
        double warmUpSeconds = (System.nanoTime() - warmUpStart) / 1e9;
        if (recording != null) {
            recording.start();
        }
        long units0 = counter.getAsLong();
        long xact0 = db.committedTransactions();
        long wal0 = db.walBytes();
        CoordinatorProcess.Usage usage0 = coordinator.usage();
        long own0 = Machine.ownCpuNanos();
        long pg0 = Machine.postgresCpuNanos();
        long[] jiffies0 = Machine.cpuJiffies();
        long compiler0 = Machine.compilerCpuNanos(coordinator.pid());
        long t0 = System.nanoTime();
        Thread.sleep(measureMs);
        long units1 = counter.getAsLong();
        double seconds = (System.nanoTime() - t0) / 1e9;
        if (recording != null) {
            recording.stop(units1 - units0);
        }
        long[] jiffies1 = Machine.cpuJiffies();
        long compiler1 = Machine.compilerCpuNanos(coordinator.pid());
        long own1 = Machine.ownCpuNanos();
        long pg1 = Machine.postgresCpuNanos();
        CoordinatorProcess.Usage usage1 = coordinator.usage();
        long xact1 = db.committedTransactions();
        long wal1 = db.walBytes();
        return new Window(seconds, units1 - units0, xact1 - xact0, usage1.cpuNanos() - usage0.cpuNanos(),
                usage1.allocatedBytes() - usage0.allocatedBytes(), own1 - own0, pg1 - pg0, wal1 - wal0,
                jiffies1[0] - jiffies0[0], jiffies1[1] - jiffies0[1], warmUpSeconds, compiler1 - compiler0);
    }

    private static void awaitJitSettled(long pid, long warmUpStart) throws InterruptedException {
        long harness = ProcessHandle.current().pid();
        double share;
        double harnessShare;
        do {
            long before = Machine.compilerCpuNanos(pid);
            long harnessBefore = Machine.compilerCpuNanos(harness);
            Thread.sleep(SETTLE_CHECK_MS);
            share = (Machine.compilerCpuNanos(pid) - before) / (SETTLE_CHECK_MS * 1e6);
            harnessShare = (Machine.compilerCpuNanos(harness) - harnessBefore) / (SETTLE_CHECK_MS * 1e6);
        } while (Math.max(share, harnessShare) > SETTLED_SHARE && System.nanoTime() - warmUpStart < MAX_WARM_UP_MS * 1_000_000);
        System.out.printf("    warm-up %.0f s, JIT compilers at %.0f %% of a core over the last %d s (harness: %.0f %%)%n",
                (System.nanoTime() - warmUpStart) / 1e9, share * 100, SETTLE_CHECK_MS / 1000, harnessShare * 100);
    }

    /** CPU of the coordinator JVM's JIT compiler threads within the window, ms per unit. */
    double compilerCpuMsPerUnit() {
        return units == 0 ? Double.NaN : compilerCpuNanos / 1e6 / units;
    }

    double perSecond() {
        return units / seconds;
    }

    /** PostgreSQL commits per unit; approximate, the statistics are flushed about once a second. */
    double transactionsPerUnit() {
        return units == 0 ? Double.NaN : (double) transactions / units;
    }

    double coordinatorCpuMsPerUnit() {
        return units == 0 ? Double.NaN : coordinatorCpuNanos / 1e6 / units;
    }

    double coordinatorKiBAllocatedPerUnit() {
        return units == 0 ? Double.NaN : coordinatorAllocatedBytes / 1024.0 / units;
    }

    double harnessCpuMsPerUnit() {
        return units == 0 ? Double.NaN : harnessCpuNanos / 1e6 / units;
    }

    double postgresCpuMsPerUnit() {
        return units == 0 ? Double.NaN : postgresCpuNanos / 1e6 / units;
    }

    double walBytesPerUnit() {
        return units == 0 ? Double.NaN : (double) walBytes / units;
    }

    double machineBusyPercent() {
        return totalJiffies == 0 ? Double.NaN : 100.0 * busyJiffies / totalJiffies;
    }

    /**
     * CPU of everything but the coordinator JVM, this harness JVM and PostgreSQL's processes (other
     * work on the machine, the kernel's own, the hypervisor's steal), % of all cores. The load average
     * cannot tell that: the benchmark's own load from the stage before is in it.
     */
    double otherCpuPercent() {
        if (totalJiffies == 0) {
            return Double.NaN;
        }
        double oursInJiffies = (coordinatorCpuNanos + harnessCpuNanos + postgresCpuNanos) / NANOS_PER_JIFFY;
        return Math.max(0, 100.0 * (busyJiffies - oursInJiffies) / totalJiffies);
    }
}
