package dev.agentcoordinator.infra;

import java.time.Instant;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;

/**
 * Whether the database is known to be unreachable now: an outage breaker paused a route on it (DatabaseOutageBreaker)
 * and has not seen the database answer since. The HTTP API's pool refuses at once meanwhile
 * ({@link OutageRefusingDataSource}): a call is answered 503 in milliseconds, not after the pool's wait for a
 * connection that cannot come ({@code coordinator.http.db-timeout-ms}, 10 s). Each breaker's probe asks every second,
 * so once the database is back a call is refused for about a second more. A breaker stopped while open (its route
 * stopped) counts no more.
 */
public final class KnownDatabaseOutage {
    /** The breakers open on it (guarded by this). */
    private final Set<Object> pausedBy = new HashSet<>();
    /** When the first of them opened; null while none is open. */
    private volatile Instant since;
    /** What the last of them met (the driver's words: "Connection to host:port refused"), while one is open. */
    private volatile String reason;

    /** {@code breaker} paused its route on a failure that says the database cannot be reached. */
    public synchronized void seen(Object breaker) {
        seen(breaker, null);
    }

    /** As {@link #seen(Object)}, with what the route met: the health check, which waits for a connection, tells it. */
    public synchronized void seen(Object breaker, String what) {
        if (pausedBy.add(breaker) && pausedBy.size() == 1) {
            since = Instant.now();
        }
        if (what != null) {
            reason = what;
        }
    }

    /** What the routes last met, while an outage is known. */
    public Optional<String> reason() {
        return since == null ? Optional.empty() : Optional.ofNullable(reason);
    }

    /** {@code breaker} saw the database answer, or stopped. */
    public synchronized void over(Object breaker) {
        if (pausedBy.remove(breaker) && pausedBy.isEmpty()) {
            since = null;
            reason = null;
        }
    }

    /** When the outage known now was first seen. */
    public Optional<Instant> since() {
        return Optional.ofNullable(since);
    }
}
