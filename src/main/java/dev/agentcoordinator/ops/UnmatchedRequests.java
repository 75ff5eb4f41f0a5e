package dev.agentcoordinator.ops;

import dev.agentcoordinator.engine.Json;
import io.vertx.core.http.impl.HttpServerImpl;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import org.apache.camel.CamelContext;
import org.apache.camel.component.platform.http.vertx.VertxPlatformHttpRouter;
import org.apache.camel.component.platform.http.vertx.VertxPlatformHttpServer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Answers a request that no route takes in JSON, as the API's own errors are: a path nothing serves
 * (404), a method the path is not served with (405), a body whose Content-Type the path does not take
 * (415: {@code curl -d} without {@code -H 'Content-Type: application/json'}), an Accept header that
 * rules out the path's JSON (406), a body above the server's limit (413), or a request it cannot read
 * (400: a broken %-escape). Vert.x answered the first
 * two with an HTML page, the others with an empty body or a line of text.
 * Camel's server keeps its router to itself; the HTTP server it started hands it out as its request
 * handler (an implementation class of Vert.x, as {@code CamelRuntime} reads the bound port).
 */
public final class UnmatchedRequests {
    private static final Logger LOG = LoggerFactory.getLogger(UnmatchedRequests.class);

    private UnmatchedRequests() {
    }

    /** On the started HTTP server of {@code context}; leaves Vert.x's pages when it cannot reach the router. */
    public static void answerInJson(CamelContext context) {
        VertxPlatformHttpServer server = context.hasService(VertxPlatformHttpServer.class);
        if (server != null && server.getServer() instanceof HttpServerImpl http && http.requestHandler() instanceof Router router) {
            router.errorHandler(404, request -> answer(request, 404, "no such path: " + request.request().path()));
            router.errorHandler(405, request -> {
                // bound under a name of the port (platform-http-router-<port>), the only one of its type
                VertxPlatformHttpRouter camelRouter = context.getRegistry().findSingleByType(VertxPlatformHttpRouter.class);
                String path = request.normalizedPath() != null ? request.normalizedPath() : request.request().path();
                String allowed = camelRouter == null || path == null ? "" : allowedMethods(camelRouter, path);
                if (!allowed.isEmpty()) {
                    request.response().putHeader("Allow", allowed);   // RFC 9110, 15.5.6: a 405 says what the path takes
                }
                answer(request, 405, "method " + request.request().method() + " not allowed on " + request.request().path()
                        + (allowed.isEmpty() ? "" : ": it takes " + allowed));
            });
            router.errorHandler(415, request -> answer(request, 415, "Content-Type " + quoted(request.request().getHeader("Content-Type"))
                    + " not accepted on " + request.request().method() + " " + request.request().path()
                    + "; the API takes application/json"));
            router.errorHandler(413, request -> answer(request, 413, "request body too large for " + request.request().method() + " "
                    + request.request().path() + ": the HTTP server takes up to 10 MiB unless camel.server.maxBodySize says otherwise"));
            router.errorHandler(406, request -> answer(request, 406, request.request().method() + " " + request.request().path()
                    + " answers " + (PrometheusAccept.isMetricsPath(request) ? "Prometheus' text/plain" : "application/json")
                    + ", which Accept " + quoted(request.request().getHeader("Accept")) + " does not take"));
            // BasicAuthGuard's refusal (its WWW-Authenticate header set already), in JSON as every other error
            router.errorHandler(401, request -> {
                closeWhenAnswered(request);
                answer(request, 401, request.request().method() + " " + request.request().path()
                        + " needs the credentials of coordinator.http.user (HTTP basic authentication)");
            });
            // a request Vert.x cannot read at all (a query or path with a broken %-escape)
            router.errorHandler(400, request -> answer(request, 400, "malformed request " + request.request().method() + " "
                    + request.request().path() + (request.failure() == null ? "" : ": " + request.failure().getMessage())));
        } else {
            LOG.debug("HTTP router not reachable: requests no route takes are answered by Vert.x");
        }
    }

    /**
     * The methods the routes of {@code path} take, as an Allow header lists them: HEAD wherever GET is taken
     * ({@link HeadAsGet}). A route's path is written as Vert.x takes it ({@code /api/executions/:id}). The routes are
     * those of Camel's router (mounted under the server's), none when it has none.
     */
    static String allowedMethods(Router router, String path) {
        java.util.Set<String> methods = new java.util.TreeSet<>();
        for (io.vertx.ext.web.Route route : router.getRoutes()) {
            // a route of a path ending in * (/observe/jolokia/*) is kept as its prefix (/observe/jolokia/), not exact
            boolean taken = route.getPath() != null && (takes(route.getPath(), path)
                    || !route.isExactPath() && (path + "/").startsWith(route.getPath()));
            if (taken && route.methods() != null && !route.methods().isEmpty()) {
                route.methods().forEach(method -> methods.add(method.name()));
            }
        }
        if (methods.contains("GET")) {
            methods.add("HEAD");
        }
        return String.join(", ", methods);
    }

    /** Whether a route path ({@code :name} a segment of any value, a trailing {@code *} any rest) takes {@code path}. */
    static boolean takes(String routePath, String path) {
        String[] wanted = trimmed(routePath).split("/", -1);
        String[] given = trimmed(path).split("/", -1);
        for (int i = 0; i < wanted.length; i++) {
            if (wanted[i].equals("*") && i == wanted.length - 1) {
                return true;
            }
            if (i >= given.length || !(wanted[i].equals(given[i]) || wanted[i].startsWith(":") && !given[i].isEmpty())) {
                return false;
            }
        }
        return wanted.length == given.length;
    }

    private static String trimmed(String path) {
        return path.length() > 1 && path.endsWith("/") ? path.substring(0, path.length() - 1) : path;
    }

    private static String quoted(String header) {
        return header == null ? "(none)" : "\"" + header + "\"";
    }

    /**
     * A refused HTTP/1.x request whose body has not all arrived: its connection is closed once the answer is written.
     * The body is never read (authentication comes first), but Vert.x kept the connection to skip it, and a client
     * that sent a byte of a 1 MB body every 5 s held its connection for as long (still open after 90 s: the idle
     * timeout counts silence, and the head's deadline ends with the headers).
     */
    private static void closeWhenAnswered(RoutingContext request) {
        if (!request.request().isEnded() && request.request().version() != io.vertx.core.http.HttpVersion.HTTP_2) {
            request.response().putHeader("Connection", "close");
            request.response().endHandler(written -> request.request().connection().close());
        }
    }

    static void answer(RoutingContext request, int status, String error) {
        if (request.response().ended()) {
            return;
        }
        request.response().setStatusCode(status).putHeader("Content-Type", "application/json");
        if (request.request().method() == io.vertx.core.http.HttpMethod.HEAD) {
            request.response().end();   // no body: over HTTP/2 one is a protocol error, and the client saw none
        } else {
            request.response().end(Json.object().put("error", error).toString());
        }
    }
}
