package dev.agentcoordinator.ops;

import io.vertx.core.MultiMap;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.AuthenticationHandler;
import org.apache.camel.component.platform.http.vertx.auth.AuthenticationConfig;

/**
 * Writes the media types of a request's {@code Content-Type} and {@code Accept} in lower case before any
 * route matches them: their type and subtype ignore case (RFC 9110, 8.3.1), but Vert.x's router compares
 * them exactly, so {@code Content-Type: APPLICATION/JSON} got 415 and {@code Accept: Application/Json} 406.
 * Parameters ({@code charset=UTF-8}, {@code q=0.5}) are left as they came. Vert.x parses these headers
 * when a route first asks for them, which is after the guards ran.
 */
public final class MediaTypeCase implements AuthenticationHandler {

    AuthenticationConfig.AuthenticationConfigEntry entry() {
        return GuardedHttpServerFactory.onEveryPath(this);
    }

    @Override
    public void handle(RoutingContext request) {
        MultiMap headers = request.request().headers();
        lowerMediaTypes(headers, "Content-Type");
        lowerMediaTypes(headers, "Accept");
        request.next();
    }

    private static void lowerMediaTypes(MultiMap headers, String name) {
        String value = headers.get(name);
        if (value != null && headers.getAll(name).size() == 1) {
            String lowered = lowerMediaTypes(value);
            if (!lowered.equals(value)) {
                headers.set(name, lowered);
            }
        }
    }

    /** {@code value}, a comma-separated list of media types with parameters, with each type/subtype in lower case. */
    static String lowerMediaTypes(String value) {
        StringBuilder lowered = new StringBuilder(value.length());
        boolean inType = true;
        boolean quoted = false;   // a parameter's quoted value may hold ',' or ';'
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c == '"' && !inType) {
                quoted = !quoted;
            } else if (c == ';' && !quoted) {
                inType = false;
            } else if (c == ',' && !quoted) {
                inType = true;
            }
            lowered.append(inType ? Character.toLowerCase(c) : c);
        }
        return lowered.toString();
    }
}
