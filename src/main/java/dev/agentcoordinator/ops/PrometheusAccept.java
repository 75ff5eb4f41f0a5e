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
 * any parameters) was answered 406 too: it gets past the route with the text format added behind it.
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
        if (METRICS_PATH.equals(request.request().path())) {
            MultiMap headers = request.request().headers();
            String accept = normalised(String.join(",", headers.getAll("Accept")));
            if (accept != null) {
                headers.set("Accept", accept);
            }
        }
        request.next();
    }

    /**
     * The Accept that lets Vert.x route the request and Camel's handler answer the format asked for: OpenMetrics
     * followed by the text format when OpenMetrics is taken (not at q=0), the text format when only it is (text/plain
     * or text/*, with any parameters, or *&#47;*); null to leave {@code accept} as it is (nothing the path answers).
     */
    static String normalised(String accept) {
        boolean openMetrics = false;
        boolean text = false;
        for (String range : accept.toLowerCase(Locale.ROOT).split(",")) {
            String[] parts = range.split(";");
            String type = parts[0].strip();
            if (refused(parts)) {
                continue;
            }
            openMetrics |= type.equals(OPEN_METRICS_TYPE);
            text |= type.equals("text/plain") || type.equals("text/*") || type.equals("*/*");
        }
        return openMetrics ? OPEN_METRICS_TYPE + ", " + TEXT_FORMAT : text ? TEXT_FORMAT : null;
    }

    private static boolean refused(String[] parts) {
        for (int i = 1; i < parts.length; i++) {
            String parameter = parts[i].strip().replace(" ", "");
            if (parameter.matches("q=0(\\.0{0,3})?")) {
                return true;
            }
        }
        return false;
    }
}
