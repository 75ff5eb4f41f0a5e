package dev.agentcoordinator.infra;

import javax.sql.DataSource;
import java.sql.SQLException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;

/**
 * The pool as the application sees it: a connection is handed out only once the database runs with
 * its schema migrated. Camel starts its routes' services (the aggregators read their repositories)
 * while the database may still be initialising; whatever asks for a connection then waits for the
 * migrations instead of meeting a missing table, and fails with the start's own error if it failed.
 */
final class ReadyGatedDataSource extends CheckedDataSource {

    private final Future<?> migrated;

    /** @param migrated the database's start, which ends once the schema is migrated */
    ReadyGatedDataSource(DataSource pool, Future<?> migrated) {
        super(pool);
        this.migrated = migrated;
    }

    /** Waits for the migrations. */
    @Override
    void check() throws SQLException {
        try {
            migrated.get();   // once done, a read of its state: nothing on the hot path
        } catch (ExecutionException e) {
            throw new SQLException("the database did not start: " + e.getCause(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SQLException("interrupted while waiting for the database to start", e);
        }
    }
}
