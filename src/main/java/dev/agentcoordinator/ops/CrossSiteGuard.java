package dev.agentcoordinator.ops;

import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.AuthenticationHandler;
import org.apache.camel.component.platform.http.vertx.auth.AuthenticationConfig;

import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Refuses (403) what a browser sends on behalf of another site's page. Without it a page anywhere could cancel
 * executions or stop routes through Jolokia on a coordinator at 127.0.0.1 (a form post or an image needs no CORS,
 * and a browser adds cached basic credentials). Three signs, each enough:
 * <ul>
 * <li>{@code Sec-Fetch-Site} is {@code cross-site} or {@code same-site} (what browsers since 2020 to 2023 send);</li>
 * <li>an {@code Origin} of another host than the request's {@code Host}, which is not this machine's either (older
 * browsers send no {@code Sec-Fetch-Site}, but an Origin on every cross-origin POST);</li>
 * <li>without a password (the coordinator then listens on a loopback address only): a {@code Host} that is not a name
 * of this machine. A page whose host name its owner re-points at 127.0.0.1 (DNS rebinding) sends same-origin
 * requests, which pass the two signs above, under its own name.</li>
 * </ul>
 * Requests from typed URLs, scripts, agents and Hawtio's proxy (its browser requests are same-origin to Hawtio, on
 * this machine; the proxy forwards them) pass. Before the authentication, so that such a request never gets as far
 * as a credentials prompt. A Jolokia operation by GET is refused whatever it carries (405): a page makes a browser send
 * one for an image or a link, and browsers before those signs send neither of the first two with it.
 */
public final class CrossSiteGuard implements AuthenticationHandler {

    static final String HEADER = "Sec-Fetch-Site";
    /** Where Camel's Jolokia plugin answers. */
    static final String JOLOKIA_PATH = "/observe/jolokia";
    /** What Jolokia answers a GET with and that changes nothing (an empty type is the version). */
    private static final Set<String> JOLOKIA_READS = Set.of("", "read", "list", "search", "version");

    /** True when no password is set: the Host must then name this machine. */
    private final boolean withoutPassword;
    /** coordinator.http.host, a name the Host may give besides this machine's loopback names. */
    private final String configuredHost;

    CrossSiteGuard(boolean withoutPassword, String configuredHost) {
        this.withoutPassword = withoutPassword;
        this.configuredHost = configuredHost == null ? "" : configuredHost.toLowerCase(Locale.ROOT);
    }

    AuthenticationConfig.AuthenticationConfigEntry entry() {
        return GuardedHttpServerFactory.onEveryPath(this);
    }

    static boolean fromAnotherSite(String secFetchSite) {
        return "cross-site".equalsIgnoreCase(secFetchSite) || "same-site".equalsIgnoreCase(secFetchSite);
    }

    @Override
    public void handle(RoutingContext request) {
        String byGet = jolokiaOperationByGet(request.request().method().name(), request.normalizedPath(), () -> jolokiaPaths(request));
        if (byGet != null) {
            request.response().putHeader("Allow", "POST");
            UnmatchedRequests.answer(request, 405, byGet);
            return;
        }
        String refusal = refusal(request.request().getHeader(HEADER), request.request().getHeader("Origin"),
                request.request().getHeader("Host"));
        if (refusal == null) {
            request.next();
            return;
        }
        UnmatchedRequests.answer(request, 403, refusal);
    }

    /** Why the request is refused, or null when it passes. */
    String refusal(String secFetchSite, String origin, String host) {
        if (fromAnotherSite(secFetchSite)) {
            return "refused: a request a browser sent for a page of another site (" + HEADER + ": " + secFetchSite + ")";
        }
        if (origin != null && !sameOrLocalOrigin(origin, host)) {
            return "refused: a request a browser sent for a page of another origin (Origin: " + origin + ")";
        }
        if (withoutPassword && host != null && !isLocalName(hostName(host))) {
            return "refused: Host " + host + " is not a name of this coordinator, which listens on " + configuredHost
                    + " without a password (coordinator.http.password): a page of another site whose name was pointed at"
                    + " this machine (DNS rebinding) sends such requests";
        }
        return null;
    }

    /**
     * Why a GET or HEAD of Jolokia is refused: it asks for more than a read, a list, a search or the version (by its path,
     * or by the {@code p} parameters, which Jolokia takes instead); null when it passes. {@code path}: normalized (dot
     * segments gone, unreserved characters decoded).
     */
    static String jolokiaOperationByGet(String method, String path, Supplier<List<String>> p) {
        if (!("GET".equals(method) || "HEAD".equals(method)) || path == null
                || !(path.equals(JOLOKIA_PATH) || path.startsWith(JOLOKIA_PATH + "/"))) {
            return null;
        }
        // Jolokia takes the p parameter only when the path after /observe/jolokia is empty or slashes (JolokiaRequestFactory):
        // both are checked, whichever it takes
        List<String> asked = new ArrayList<>(p.get());
        asked.add(path.substring(JOLOKIA_PATH.length()));
        for (String jolokiaPath : asked) {
            String type = jolokiaType(jolokiaPath);
            if (type == null || !JOLOKIA_READS.contains(type)) {
                return "refused: a Jolokia " + (type == null ? "request" : "'" + type + "'") + " by " + method + " (a page of any site can"
                        + " make a browser send one for an image or a link): send operations by POST, as Hawtio does";
            }
        }
        return null;
    }

    /** The {@code p} parameters of a request; none when its query cannot be decoded (nobody can read them: it is answered 400 further on). */
    private static List<String> jolokiaPaths(RoutingContext request) {
        try {
            return request.request().params().getAll("p");
        } catch (IllegalArgumentException undecodable) {
            return List.of();
        }
    }

    /** The request type a Jolokia path starts with, in lower case; null when it cannot be decoded. */
    private static String jolokiaType(String jolokiaPath) {
        String decoded;
        try {
            decoded = URLDecoder.decode(jolokiaPath, StandardCharsets.UTF_8);
        } catch (IllegalArgumentException malformed) {
            return null;
        }
        String trimmed = decoded.replaceFirst("^/+", "");
        int slash = trimmed.indexOf('/');
        return (slash < 0 ? trimmed : trimmed.substring(0, slash)).strip().toLowerCase(Locale.ROOT);
    }

    private boolean sameOrLocalOrigin(String origin, String host) {
        URI uri;
        try {
            uri = URI.create(origin.strip());
        } catch (IllegalArgumentException malformed) {
            return false;
        }
        if (uri.getHost() == null) {   // "null": a sandboxed frame, a file
            return false;
        }
        String authority = uri.getRawAuthority();
        return isLocalName(uri.getHost().toLowerCase(Locale.ROOT)) || (host != null && authority.equalsIgnoreCase(host.strip()));
    }

    /** The name of a Host header: without its port, an IPv6 address with its brackets. */
    static String hostName(String host) {
        String value = host.strip().toLowerCase(Locale.ROOT);
        if (value.startsWith("[")) {
            int end = value.indexOf(']');
            return end < 0 ? value : value.substring(0, end + 1);
        }
        int colon = value.lastIndexOf(':');
        return colon < 0 ? value : value.substring(0, colon);
    }

    /** A loopback name or address of this machine, or the configured host. No name is looked up. */
    private boolean isLocalName(String name) {
        String bare = name.startsWith("[") && name.endsWith("]") ? name.substring(1, name.length() - 1) : name;
        return bare.equals("localhost") || bare.endsWith(".localhost") || bare.equals("::1")
                || bare.matches("127(\\.\\d{1,3}){3}") || (!configuredHost.isEmpty() && bare.equals(configuredHost));
    }
}
