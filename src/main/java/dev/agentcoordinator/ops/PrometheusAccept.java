package dev.agentcoordinator.ops;

import io.vertx.core.MultiMap;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.AuthenticationHandler;
import org.apache.camel.component.platform.http.vertx.auth.AuthenticationConfig;

import java.util.Locale;

/**
 * Lets a scraper that asks for Prometheus' text format in any usual spelling get it from {@code /observe/metrics}.
 * Camel's metrics route produces exactly {@code text/plain; version=0.0.4; charset=utf-8}, and Vert.x's router
 * matches an Accept header's parameters exactly: {@code text/plain}, {@code text/plain;version=0.0.4}, {@code text/*}
 * and Telegraf's list (protobuf first, then {@code text/plain;version=0.0.4}) were answered 406. Such an Accept is
 * read as asking for that format. Camel's handler answers OpenMetrics when the Accept names it, but its route
 * produces the text format only, so an Accept naming OpenMetrics alone ({@code application/openmetrics-text}, with
 * any parameters) was answered 406 too: it gets past the route with the text format added behind it. An Accept that
 * takes neither is refused here: the router, which ignores qualities, answered {@code *}{@code /*;q=0} 200.
 */
public final class PrometheusAccept implements AuthenticationHandler {
    static final String METRICS_PATH = "/observe/metrics";
    static final String TEXT_FORMAT = "text/plain; version=0.0.4; charset=utf-8";
    /** What Camel's handler looks for in the Accept header to answer in OpenMetrics. */
    static final String OPEN_METRICS_TYPE = "application/openmetrics-text";

    AuthenticationConfig.AuthenticationConfigEntry entry() {
        return GuardedHttpServerFactory.onEveryPath(this);
    }

    @Override
    public void handle(RoutingContext request) {
        if (isMetricsPath(request)) {
            MultiMap headers = request.request().headers();
            String accept = String.join(",", headers.getAll("Accept"));
            if (!accept.isBlank()) {
                String normalised = normalised(accept);
                if (normalised == null) {
                    request.fail(406);   // answered in JSON by UnmatchedRequests; the router took */*;q=0 as */*
                    return;
                }
                headers.set("Accept", normalised);
            }
        }
        request.next();
    }

    /**
     * Whether the request is for the metrics path as the router matches it: normalised ({@code /observe//metrics},
     * {@code /observe/%6detrics}, {@code /observe/./metrics}) and with a trailing slash, each of which was answered
     * by the route without the Accept read here.
     */
    static boolean isMetricsPath(RoutingContext request) {
        String path = request.normalizedPath();
        if (path == null) {
            return false;
        }
        return METRICS_PATH.equals(path.endsWith("/") ? path.substring(0, path.length() - 1) : path);
    }

    /**
     * The Accept that lets Vert.x route the request and Camel's handler answer the format asked for: OpenMetrics
     * followed by the text format when OpenMetrics is taken and named (or the text format is refused), the text format
     * when only it is taken
     * (text/plain, text/* or *&#47;*, with any parameters, the most specific range deciding, not at q=0); null when
     * the header takes neither.
     */
    static String normalised(String accept) {
        String lowerCase = accept.toLowerCase(Locale.ROOT);
        boolean openMetricsNamed = false;
        for (String range : lowerCase.split(",")) {
            openMetricsNamed |= range.split(";")[0].strip().equals(OPEN_METRICS_TYPE);
        }
        boolean text = AcceptHeader.takes(lowerCase, "text/plain");
        // OpenMetrics when named, or when only a wildcard takes it (text/*;q=0, */*): the text format is refused there
        if ((openMetricsNamed || !text) && AcceptHeader.takes(lowerCase, OPEN_METRICS_TYPE)) {
            return OPEN_METRICS_TYPE + ", " + TEXT_FORMAT;
        }
        return text ? TEXT_FORMAT : null;
    }
}
