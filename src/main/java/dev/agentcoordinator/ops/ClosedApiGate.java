package dev.agentcoordinator.ops;

import dev.agentcoordinator.engine.Json;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.AuthenticationHandler;
import org.apache.camel.component.platform.http.vertx.auth.AuthenticationConfig;

/**
 * Answers {@code 503} in JSON, with {@code Retry-After}, while the API's routes do not run: the HTTP
 * server listens from Camel's start, but the routes that answer start with the consumers, once the
 * database is ready (and stop before the server when the coordinator stops). Without it a client got
 * Vert.x's HTML 404 meanwhile, as if the path did not exist (and an empty 503 while stopping). The management paths ({@code /observe/*})
 * pass, but for readiness, which the gate answers itself, DOWN, in Camel's terms: Camel's health checks look their
 * beans up in a registry that the start is still filling, and a probe meanwhile was once answered 500
 * (a ConcurrentModificationException in {@code SimpleRegistry.findByType}, 1 start in about 30 polled every 100 ms).
 *
 * <p>It is installed as an entry of the server's authentication configuration because that is the
 * one place Camel's server takes handlers before it listens (see {@link GuardedHttpServerFactory});
 * it authenticates nobody.
 */
public final class ClosedApiGate implements AuthenticationHandler {

    static final String STARTING = "the coordinator is starting; try again shortly";
    static final String STOPPING = "the coordinator is stopping";
    static final String RETRY_AFTER_S = "1";

    /** How long a stop waits for the API requests already let through (Camel's own graceful stop gives its routes 15 s). */
    public static final java.time.Duration DRAIN_AT_MOST = java.time.Duration.ofSeconds(15);

    private volatile String closedBecause = STARTING;
    /** API requests let through to their routes and not yet answered (counted before the gate is read: see closeForStop). */
    private final java.util.concurrent.atomic.AtomicInteger letThrough = new java.util.concurrent.atomic.AtomicInteger();

    AuthenticationConfig.AuthenticationConfigEntry entry() {
        return GuardedHttpServerFactory.onEveryPath(this);
    }

    /** The API's routes answer from now on. */
    public void open() {
        closedBecause = null;
    }

    /**
     * The API's routes are about to stop: refuses new requests, then waits (at most {@code atMost}) for those let through
     * before, so that none reaches its route once the route has stopped: the platform-http consumer answers an empty 503
     * then, without the JSON and Retry-After a client is promised (StartupTest met one at a load of 15 to 21, a request
     * let through just before the stop). A request counts itself before it reads the gate, so one that read it open
     * is counted by the time this reads the count.
     */
    public void closeForStop(java.time.Duration atMost) {
        closedBecause = STOPPING;
        long deadline = System.nanoTime() + atMost.toNanos();
        synchronized (letThrough) {
            while (letThrough.get() > 0) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return;
                }
                try {
                    letThrough.wait(Math.max(1, left / 1_000_000));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    /** API requests let through and not answered yet. */
    int inFlight() {
        return letThrough.get();
    }

    private void answered() {
        if (letThrough.decrementAndGet() == 0) {
            synchronized (letThrough) {
                letThrough.notifyAll();
            }
        }
    }

    /** The paths that say whether the coordinator is ready: not while the gate is closed. */
    private static final java.util.Set<String> READINESS = java.util.Set.of("/observe/health", "/observe/health/ready");

    @Override
    public void handle(RoutingContext request) {
        String reason = closedBecause;
        String path = request.normalizedPath();
        if (reason != null && READINESS.contains(path.length() > 1 && path.endsWith("/") ? path.substring(0, path.length() - 1) : path)) {
            request.response().setStatusCode(503)
                    .putHeader("Content-Type", "application/json")
                    .putHeader("Retry-After", RETRY_AFTER_S)
                    .end(Json.object().put("status", "DOWN").toString());
            return;
        }
        if (path.startsWith("/observe/")) {
            request.next();
            return;
        }
        letThrough.incrementAndGet();
        if (closedBecause == null) {
            request.addEndHandler(ended -> answered());
            request.next();
            return;
        }
        answered();
        reason = closedBecause;
        request.response().setStatusCode(503)
                .putHeader("Content-Type", "application/json")
                .putHeader("Retry-After", RETRY_AFTER_S)
                .end(Json.object().put("error", reason).toString());
    }
}
