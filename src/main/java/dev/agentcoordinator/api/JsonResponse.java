package dev.agentcoordinator.api;

import org.apache.camel.Exchange;
import org.apache.camel.Message;

/** The HTTP answer of an API route: a status and a JSON body, and none of the request's headers. */
final class JsonResponse {
    private JsonResponse() {
    }

    static void respond(Exchange exchange, int status, String json) {
        Message in = exchange.getMessage();
        in.removeHeaders("*");
        in.setHeader(Exchange.HTTP_RESPONSE_CODE, status);
        in.setHeader(Exchange.CONTENT_TYPE, ApiRouteBuilder.JSON);
        in.setBody(json);
    }
}
