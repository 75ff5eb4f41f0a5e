package dev.agentcoordinator.ops;

import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpVersion;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.AuthenticationHandler;
import org.apache.camel.component.platform.http.vertx.auth.AuthenticationConfig;

/**
 * Answers {@code HEAD} as the {@code GET} of the same URI without its body (RFC 9110, 9.3.2): the status
 * and headers a monitor or {@code curl -I} asks for. Camel's REST routes take no HEAD, so Vert.x answered
 * 405 on every path. The request is routed again as a GET; Vert.x leaves out the body of a HEAD's answer
 * over HTTP/1.x only (over HTTP/2 it would send it), so a HEAD over HTTP/2 keeps its 405.
 */
public final class HeadAsGet implements AuthenticationHandler {

    AuthenticationConfig.AuthenticationConfigEntry entry() {
        return GuardedHttpServerFactory.onEveryPath(this);
    }

    @Override
    public void handle(RoutingContext request) {
        if (request.request().method() == HttpMethod.HEAD && request.request().version() != HttpVersion.HTTP_2) {
            request.reroute(HttpMethod.GET, request.request().uri());
        } else {
            request.next();
        }
    }
}
