package dev.agentcoordinator.ops;

import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.AuthenticationHandler;
import org.apache.camel.component.platform.http.vertx.auth.AuthenticationConfig;

/**
 * Refuses (406) a request to the API whose {@code Accept} header refuses JSON with a quality of 0, such as
 * {@code application/json;q=0} or {@code application/json;q=0, *}{@code /*}: q=0 means "not acceptable" (RFC 9110,
 * 12.4.2), and the range that decides is the most specific one that matches (12.5.1). Vert.x's router ignores the
 * quality when it matches a route's produced type, so such a request was answered 200 with JSON. An Accept header
 * that names no range matching JSON ({@code text/html}) is left to the router, which answers 406 itself. Every path
 * under /api/ answers JSON; the management paths answer other types too and are left as they are.
 */
public final class RefusedJson implements AuthenticationHandler {

    static final String JSON = "application/json";

    AuthenticationConfig.AuthenticationConfigEntry entry() {
        return GuardedHttpServerFactory.onEveryPath(this);
    }

    @Override
    public void handle(RoutingContext request) {
        String path = request.normalizedPath();
        if (path != null && path.startsWith("/api/") && AcceptHeader.refuses(String.join(",", request.request().headers().getAll("Accept")), JSON)) {
            request.fail(406);   // answered in JSON by UnmatchedRequests, as the router's own 406
            return;
        }
        request.next();
    }
}
