package dev.agentcoordinator.ops;

import dev.agentcoordinator.engine.Json;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;

/**
 * Answers a request Vert.x cannot read in JSON, as every other error of the API: a request line above the server's
 * limit (414), headers above theirs (431), anything else its decoder refused (400). Vert.x's default handler sent the
 * same statuses with an empty body, which told a client nothing of the limit. Such a request never reaches the
 * router (its {@link UnmatchedRequests}): the HTTP server takes this handler before it listens ({@link HttpServerVertx}).
 */
final class InvalidRequests implements Handler<HttpServerRequest> {

    private final int maxLineBytes;
    private final int maxHeaderBytes;

    InvalidRequests(HttpServerOptions options) {
        this.maxLineBytes = options.getMaxInitialLineLength();
        this.maxHeaderBytes = options.getMaxHeaderSize();
    }

    @Override
    public void handle(HttpServerRequest request) {
        Throwable cause = request.decoderResult().cause();
        int status;
        String error;
        if (cause instanceof TooLongHttpLineException) {
            status = 414;
            error = "request line too long: the HTTP server reads up to " + maxLineBytes
                    + " bytes of method, path with query and version; send long parameters in fewer or shorter values";
        } else if (cause instanceof TooLongHttpHeaderException) {
            status = 431;
            error = "request headers too large: the HTTP server reads up to " + maxHeaderBytes + " bytes of headers";
        } else {
            status = 400;
            error = "malformed request" + (cause == null || cause.getMessage() == null ? "" : ": " + cause.getMessage());
        }
        // the decoder cannot go on after such a request: the connection closes, as Vert.x's own handler does
        request.response().setStatusCode(status)
                .putHeader("Content-Type", "application/json")
                .putHeader("Connection", "close")
                .end(Json.object().put("error", error).toString())
                .onComplete(ended -> request.connection().close());
    }
}
