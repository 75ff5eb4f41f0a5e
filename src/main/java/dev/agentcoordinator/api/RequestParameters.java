package dev.agentcoordinator.api;

import org.apache.camel.Exchange;
import org.apache.camel.Message;

import java.util.List;
import java.util.Map;

/**
 * The parameters of an API request, as the routes read them: the query's from the query string only, each once,
 * none holding U+0000; and the request's other headers and body dropped where the engine's routes take over.
 */
final class RequestParameters {
    /** The filters and paging the routes read from the query string, and from nowhere else. */
    private static final List<String> QUERY_PARAMETERS = List.of("workflow_id", "status", "limit", "after", "type", "event_id");
    /** The path parameters the routes read as one value each (the query's are read once, queryParametersFromTheQueryOnly). */
    private static final java.util.Set<String> SINGLE_VALUED_PARAMETERS = java.util.Set.of("id", "step");

    private RequestParameters() {
    }

    /**
     * platform-http gives a request's headers and its query parameters alike as the message's headers: a request
     * header {@code status: failed} (a proxy's, a client library's) filtered a listing as {@code ?status=failed} would,
     * and a parameter given twice in the query reached a route as a list only for some names. These are read from the
     * query string itself.
     */
    static void queryParametersFromTheQueryOnly(Exchange exchange) {
        Message in = exchange.getMessage();
        QUERY_PARAMETERS.forEach(in::removeHeader);
        String query = in.getHeader(Exchange.HTTP_QUERY, String.class);
        if (query == null || query.isEmpty()) {
            return;
        }
        for (String pair : query.split("&")) {
            String[] nameAndValue = pair.split("=", 2);
            String name = decodeQueryPart(nameAndValue[0]);
            if (!QUERY_PARAMETERS.contains(name)) {
                continue;
            }
            if (in.getHeader(name) != null) {
                throw new IllegalArgumentException("parameter " + name + " is given more than once (in the path, the query"
                        + " or a header): give it once");
            }
            in.setHeader(name, nameAndValue.length > 1 ? decodeQueryPart(nameAndValue[1]) : "");
        }
    }

    private static String decodeQueryPart(String part) {
        try {
            return java.net.URLDecoder.decode(part, java.nio.charset.StandardCharsets.UTF_8);
        } catch (IllegalArgumentException badEscape) {
            throw new IllegalArgumentException("query parameter \"" + part + "\" is not percent-encoded correctly: "
                    + badEscape.getMessage());
        }
    }

    static void refuseNulInParameters(Exchange exchange) {
        exchange.getMessage().getHeaders().forEach((name, value) -> {
            if (value instanceof String text && text.indexOf('\u0000') >= 0) {
                throw new IllegalArgumentException("parameter " + name + " contains the character U+0000 (\\u0000),"
                        + " which PostgreSQL cannot store");
            }
            // platform-http gathers a name given twice (path and query, or a header of that name) into a list
            if (value instanceof java.util.Collection<?> && SINGLE_VALUED_PARAMETERS.contains(name.toLowerCase(java.util.Locale.ROOT))) {
                throw new IllegalArgumentException("parameter " + name + " is given more than once (in the path, the query"
                        + " or a header): give it once");
            }
        });
    }

    /**
     * Drops every header of the HTTP request but the named path parameters, and its body. The platform-http
     * consumer copies each query parameter and request header into a Camel header, and the routes a cancel
     * or a retry hands over to read headers of the engine's own names (progress, requestContext,
     * causeMessageId…): {@code ?progress=…} was pasted into the step requests sent to agents. A form body
     * becomes a Map body, where camel-sql looks for parameters before the headers: {@code -d executionId=B}
     * cancelled B.
     */
    static void keepOnlyHeaders(Exchange exchange, String... names) {
        exchange.getMessage().setBody(null);
        Map<String, Object> headers = exchange.getMessage().getHeaders();
        Map<String, Object> kept = new java.util.HashMap<>();
        for (String name : names) {
            if (headers.get(name) != null) {
                kept.put(name, headers.get(name));
            }
        }
        headers.clear();
        headers.putAll(kept);
    }

    static String blankToNull(String value) {
        return value == null || value.isBlank() ? null : value;
    }
}
