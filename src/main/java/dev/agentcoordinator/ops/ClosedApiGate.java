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

    private volatile String closedBecause = STARTING;

    AuthenticationConfig.AuthenticationConfigEntry entry() {
        return GuardedHttpServerFactory.onEveryPath(this);
    }

    /** The API's routes answer from now on. */
    public void open() {
        closedBecause = null;
    }

    /** The API's routes are about to stop. */
    public void closeForStop() {
        closedBecause = STOPPING;
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
        if (reason == null || path.startsWith("/observe/")) {
            request.next();
            return;
        }
        request.response().setStatusCode(503)
                .putHeader("Content-Type", "application/json")
                .putHeader("Retry-After", RETRY_AFTER_S)
                .end(Json.object().put("error", reason).toString());
    }
}
