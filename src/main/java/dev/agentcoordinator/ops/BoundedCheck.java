package dev.agentcoordinator.ops;

import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Runs a probe on its own daemon thread and waits at most {@code timeoutMs}: an unreachable broker or
 * database may block a connect for much longer than a health request should take. While a probe
 * that timed out is still hanging, the next call reports that instead of piling up threads.
 */
final class BoundedCheck implements AutoCloseable {

    private final long timeoutMs;
    private final ExecutorService executor;
    private Future<?> running;

    BoundedCheck(String name, long timeoutMs) {
        this.timeoutMs = timeoutMs;
        this.executor = Executors.newSingleThreadExecutor(r -> {
            Thread thread = new Thread(r, "health-" + name);
            thread.setDaemon(true);
            return thread;
        });
    }

    /** Null when the probe succeeded, else what went wrong, in words. */
    synchronized String run(Callable<Void> probe) {
        if (running != null && !running.isDone()) {
            return "the previous check has not returned after more than " + timeoutMs + " ms";
        }
        running = executor.submit(probe);
        try {
            running.get(timeoutMs, TimeUnit.MILLISECONDS);
            return null;
        } catch (TimeoutException e) {
            return "no answer within " + timeoutMs + " ms";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        } catch (Exception e) {
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            return cause.getClass().getSimpleName() + ": " + cause.getMessage();
        }
    }

    /** Whether a probe is still hanging: the last answer was a wait, not what the probe met. */
    synchronized boolean hanging() {
        return running != null && !running.isDone();
    }

    @Override
    public void close() {
        executor.shutdownNow();
    }
}
