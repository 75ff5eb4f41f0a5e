package dev.agentcoordinator.ops;

import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.AuthenticationHandler;
import org.apache.camel.component.platform.http.vertx.auth.AuthenticationConfig;

import java.util.Locale;

/**
 * Reads the body of a POST to the API as JSON when its client did not say it is: no {@code Content-Type} (Python's
 * {@code requests.post(url, data=...)}, Java's HttpClient), {@code text/plain} (a fetch of a string), or a form
 * ({@code curl -d} without {@code -H 'Content-Type: application/json'}). Each was a 415 though its body was the JSON the
 * endpoint takes (the contract: {@code POST /api/events} answers 202). One that names a charset other than UTF-8 is
 * left as it came, for its 415 to quote what the client sent. A body that is not JSON is then a 400 naming why, as
 * with the right header.
 * Such requests are what a browser may send for another site's page without asking; {@link CrossSiteGuard} refuses
 * those before this runs. Runs after {@link MediaTypeCase}, so the type is in lower case.
 */
public final class JsonBodyByDefault implements AuthenticationHandler {
    private static final String JSON = "application/json";
    /** A Content-Type's charset parameter (not x-charset), quoted or not. */
    private static final java.util.regex.Pattern CHARSET = java.util.regex.Pattern.compile("(?i)(?:^|;)\\s*charset\\s*=\\s*\"?([^\";\\s]+)");

    AuthenticationConfig.AuthenticationConfigEntry entry() {
        return GuardedHttpServerFactory.onEveryPath(this);
    }

    @Override
    public void handle(RoutingContext request) {
        if (request.request().method() == HttpMethod.POST && request.request().path().startsWith("/api/")) {
            MultiMap headers = request.request().headers();
            if (headers.getAll("Content-Type").size() <= 1) {
                String taken = asJson(headers.get("Content-Type"));
                if (taken != null) {
                    headers.set("Content-Type", taken);
                }
            }
        }
        request.next();
    }

    /** The Content-Type to read {@code contentType} as: JSON for none, text/plain or a form, with its parameters; else null. */
    static String asJson(String contentType) {
        if (contentType == null || contentType.isBlank()) {
            return JSON;
        }
        int parameters = contentType.indexOf(';');
        String type = (parameters < 0 ? contentType : contentType.substring(0, parameters)).trim().toLowerCase(Locale.ROOT);
        if (!type.equals("text/plain") && !type.equals("application/x-www-form-urlencoded")) {
            return null;
        }
        if (parameters < 0) {
            return JSON;
        }
        String given = contentType.substring(parameters);
        java.util.regex.Matcher charset = CHARSET.matcher(given);
        return charset.find() && !charset.group(1).equalsIgnoreCase("utf-8") ? null : JSON + given;
    }
}
