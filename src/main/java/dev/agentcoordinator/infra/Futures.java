package dev.agentcoordinator.infra;

import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;

/** Waiting for work started on another thread, with its failure thrown as itself. */
public final class Futures {

    private Futures() {
    }

    /** The result of {@code future}; what it failed with is thrown as is, not wrapped. */
    public static <T> T await(Future<T> future) throws Exception {
        try {
            return future.get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof Exception cause) {
                throw cause;
            }
            throw (Error) e.getCause();
        }
    }

    /**
     * The result of {@code future} while something else has already gone wrong: its own failure is
     * added to {@code primary} (when there is one) and null returned.
     */
    public static <T> T awaitQuietly(Future<T> future, Throwable primary) {
        try {
            return future.get();
        } catch (ExecutionException e) {
            if (primary != null && primary != e.getCause()) {
                primary.addSuppressed(e.getCause());
            }
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }
}
