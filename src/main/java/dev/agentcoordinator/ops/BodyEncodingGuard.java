package dev.agentcoordinator.ops;

import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.AuthenticationHandler;
import org.apache.camel.component.platform.http.vertx.auth.AuthenticationConfig;

import java.util.Locale;

/**
 * Reads no body of a GET, HEAD or OPTIONS request. Refuses (415) a body the API would read as something it is not: a compressed one ({@code Content-Encoding: gzip}
 * was read as bytes that are not UTF-8, a 400 that blamed the body), or one whose {@code Content-Type} declares a
 * charset other than UTF-8 (Latin-1 text was refused as "not UTF-8", or read wrongly where its bytes happened to be
 * valid UTF-8). Bodies are UTF-8 JSON text (CONTRACT.md).
 */
public final class BodyEncodingGuard implements AuthenticationHandler {

    AuthenticationConfig.AuthenticationConfigEntry entry() {
        return GuardedHttpServerFactory.onEveryPath(this);
    }

    @Override
    public void handle(RoutingContext request) {
        io.vertx.core.http.HttpMethod method = request.request().method();
        if (method == io.vertx.core.http.HttpMethod.GET || method == io.vertx.core.http.HttpMethod.HEAD
                || method == io.vertx.core.http.HttpMethod.OPTIONS) {
            // a body means nothing here (RFC 9110, 9.3.1); Vert.x's body handler failed a GET declaring a form (a 500 in
            // plain text, and a hundred-line ERROR for each such request)
            request.request().headers().remove("Content-Type");
            request.next();
            return;
        }
        String refusal = refusalOf(request.request().getHeader("Content-Encoding"), request.request().getHeader("Content-Type"));
        if (refusal != null) {
            UnmatchedRequests.answer(request, 415, refusal);
            return;
        }
        request.next();
    }

    /** Why a body with these headers is not taken, or null. */
    static String refusalOf(String contentEncoding, String contentType) {
        if (contentEncoding != null && !contentEncoding.isBlank() && !contentEncoding.trim().equalsIgnoreCase("identity")) {
            return "Content-Encoding \"" + contentEncoding + "\" not accepted: send the body uncompressed (UTF-8 JSON text)";
        }
        String charset = charsetOf(contentType);
        if (charset != null && !charset.equals("utf-8") && !charset.equals("utf8")) {
            return "charset \"" + charset + "\" of Content-Type \"" + contentType + "\" not accepted: bodies are UTF-8"
                    + " (charset=utf-8, or no charset)";
        }
        return null;
    }

    /** The charset parameter of a Content-Type, in lower case and unquoted, or null. */
    static String charsetOf(String contentType) {
        if (contentType == null) {
            return null;
        }
        String[] parameters = contentType.split(";");
        for (int i = 1; i < parameters.length; i++) {
            String[] nameAndValue = parameters[i].split("=", 2);
            if (nameAndValue.length == 2 && nameAndValue[0].trim().equalsIgnoreCase("charset")) {
                return nameAndValue[1].trim().replace("\"", "").toLowerCase(Locale.ROOT);
            }
        }
        return null;
    }
}
