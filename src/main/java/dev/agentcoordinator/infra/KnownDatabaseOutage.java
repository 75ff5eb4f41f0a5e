package dev.agentcoordinator.infra;

import java.time.Instant;
import java.util.Optional;

/**
 * Whether the database is known to be unreachable now: an outage breaker paused a route on it (DatabaseOutageBreaker)
 * and no probe has seen the database answer since. The HTTP API's pool refuses at once meanwhile
 * ({@link OutageRefusingDataSource}): a call is answered 503 in milliseconds, not after the pool's wait for a
 * connection that cannot come ({@code coordinator.http.db-timeout-ms}, 10 s). Once the database is back, a call is
 * refused for at most one probe period (1 s) more.
 */
public final class KnownDatabaseOutage {
    /** When the outage was first seen; null while none is known. */
    private volatile Instant since;

    /** A route paused on a failure that says the database cannot be reached. */
    public void seen() {
        if (since == null) {
            since = Instant.now();
        }
    }

    /** A probe saw the database answer. */
    public void over() {
        since = null;
    }

    /** When the outage known now was first seen. */
    public Optional<Instant> since() {
        return Optional.ofNullable(since);
    }
}
