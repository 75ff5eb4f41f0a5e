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
 * read as asking for that format. One that names OpenMetrics is left to Camel, which answers in it.
 */
public final class PrometheusAccept implements AuthenticationHandler {
    static final String METRICS_PATH = "/observe/metrics";
    static final String TEXT_FORMAT = "text/plain; version=0.0.4; charset=utf-8";

    AuthenticationConfig.AuthenticationConfigEntry entry() {
        return GuardedHttpServerFactory.onEveryPath(this);
    }

    @Override
    public void handle(RoutingContext request) {
        if (METRICS_PATH.equals(request.request().path())) {
            MultiMap headers = request.request().headers();
            String accept = String.join(",", headers.getAll("Accept"));
            if (asksForTextFormat(accept)) {
                headers.set("Accept", TEXT_FORMAT);
            }
        }
        request.next();
    }

    /** Whether {@code accept} takes plain text (text/plain or text/*, with any parameters, not q=0) and names no OpenMetrics. */
    static boolean asksForTextFormat(String accept) {
        String lowered = accept.toLowerCase(Locale.ROOT);
        if (lowered.contains("openmetrics")) {
            return false;
        }
        for (String range : lowered.split(",")) {
            String[] parts = range.split(";");
            String type = parts[0].strip();
            if ((type.equals("text/plain") || type.equals("text/*")) && !refused(parts)) {
                return true;
            }
        }
        return false;
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
