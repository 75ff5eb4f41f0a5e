package dev.agentcoordinator.infra;

import javax.sql.DataSource;
import java.sql.SQLTransientConnectionException;
import java.time.Instant;
import java.util.Optional;

/** The HTTP API's pool, refusing at once while an outage is known ({@link KnownDatabaseOutage}). */
final class OutageRefusingDataSource extends CheckedDataSource {
    /** SQL state connection_exception: what callers take for an unreachable database (DatabaseUnreachable). */
    private static final String CONNECTION_EXCEPTION = "08000";

    private final KnownDatabaseOutage outage;

    OutageRefusingDataSource(DataSource pool, KnownDatabaseOutage outage) {
        super(pool);
        this.outage = outage;
    }

    /** Refuses while an outage is known. */
    @Override
    void check() throws SQLTransientConnectionException {
        Optional<Instant> since = outage.since();
        if (since.isPresent()) {
            throw new SQLTransientConnectionException("the database has been unreachable since " + since.get()
                    + " (the coordinator's routes paused on it): not waiting for a connection", CONNECTION_EXCEPTION);
        }
    }
}
