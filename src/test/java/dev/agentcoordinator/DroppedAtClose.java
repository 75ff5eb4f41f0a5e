package dev.agentcoordinator;

import org.springframework.jdbc.core.JdbcTemplate;

import java.util.ArrayDeque;
import java.util.Deque;

/**
 * Objects a test creates on the shared test database (sequences, functions, triggers; or a change such as a rename,
 * whose "drop" undoes it), each dropped at close, the latest first: only those whose CREATE went through, and every
 * one of them even when a DROP before it failed (the first failure is thrown, the others suppressed in it). Created one by one before a try/finally, a failed CREATE left
 * the earlier ones behind, and one failed DROP skipped the rest: a trigger left on workflow_step_executions acts on
 * the tests that run after.
 */
public final class DroppedAtClose implements AutoCloseable {
    private final JdbcTemplate jdbc;
    private final Deque<String> drops = new ArrayDeque<>();

    public DroppedAtClose(JdbcTemplate jdbc) {
        this.jdbc = jdbc;
    }

    /** Runs {@code create}; once it went through, {@code drop} runs at close. */
    public DroppedAtClose create(String create, String drop) {
        jdbc.execute(create);
        drops.push(drop);
        return this;
    }

    /**
     * Closes it for one whose CREATEs failed before a try-with-resources held it (a constructor, a factory): what
     * went through is dropped, and a failed DROP is suppressed in {@code failure}, which the caller throws.
     */
    public void closeAfter(RuntimeException failure) {
        try {
            close();
        } catch (RuntimeException dropFailed) {
            failure.addSuppressed(dropFailed);
        }
    }

    @Override
    public void close() {
        RuntimeException failed = null;
        while (!drops.isEmpty()) {
            try {
                jdbc.execute(drops.pop());
            } catch (RuntimeException e) {
                if (failed == null) {
                    failed = e;
                } else {
                    failed.addSuppressed(e);
                }
            }
        }
        if (failed != null) {
            throw failed;
        }
    }
}
