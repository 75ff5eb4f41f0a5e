package dev.agentcoordinator.ops;

import dev.agentcoordinator.engine.Json;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.AuthenticationHandler;
import org.apache.camel.component.platform.http.vertx.auth.AuthenticationConfig;

/**
 * Refuses (403) what a browser sends on behalf of another site's page: its {@code Sec-Fetch-Site} is
 * {@code cross-site} or {@code same-site}. Without it a page anywhere could cancel executions or stop routes
 * through Jolokia on a coordinator at 127.0.0.1 (a form post or an image needs no CORS, and a browser adds
 * cached basic credentials). Requests from the coordinator's own pages, typed URLs, scripts, agents and
 * Hawtio's proxy (its browser requests are same-origin to Hawtio; the proxy forwards them) pass: only
 * browsers set the header. Before the authentication, so that such a request never gets as far as a
 * credentials prompt.
 */
public final class CrossSiteGuard implements AuthenticationHandler {

    static final String HEADER = "Sec-Fetch-Site";

    AuthenticationConfig.AuthenticationConfigEntry entry() {
        return GuardedHttpServerFactory.onEveryPath(this);
    }

    static boolean fromAnotherSite(String secFetchSite) {
        return "cross-site".equalsIgnoreCase(secFetchSite) || "same-site".equalsIgnoreCase(secFetchSite);
    }

    @Override
    public void handle(RoutingContext request) {
        String site = request.request().getHeader(HEADER);
        if (!fromAnotherSite(site)) {
            request.next();
            return;
        }
        request.response().setStatusCode(403)
                .putHeader("Content-Type", "application/json")
                .end(Json.object().put("error", "refused: a request a browser sent for a page of another site ("
                        + HEADER + ": " + site + ")").toString());
    }
}
