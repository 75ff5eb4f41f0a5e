package dev.agentcoordinator.ops;

import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.file.FileSystemOptions;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.impl.VertxInternal;
import io.vertx.core.impl.VertxWrapper;

import java.util.concurrent.TimeUnit;

/**
 * The Vert.x instance of Camel's HTTP server, bound in the registry, where Camel's server looks for one before it
 * makes its own. Camel's server makes its {@link HttpServerOptions} itself and sets nothing on its HTTP server but
 * the router before it listens; this is the one place left to give that server what Camel does not:
 * <ul>
 * <li>an idle timeout ({@code coordinator.http.idle-timeout-ms}): without one a client that opened connections and
 * sent nothing more, or half a request, held them for good;</li>
 * <li>a bound on the time a request's head takes to arrive ({@code coordinator.http.header-timeout-ms},
 * {@link HeadBoundedHttpServer}), as a client sending a byte now and then is never idle;</li>
 * <li>{@link InvalidRequests}, which answers a request Vert.x cannot read (414, 431, 400) in JSON, as every other
 * error of the API, where Vert.x sent an empty body (a handler an HTTP server takes only before it listens).</li>
 * </ul>
 * {@link VertxWrapper} is Vert.x's own base for such a wrapper. Camel does not close a Vert.x instance it found in
 * the registry: {@link #closeAndWait()} does, after Camel stopped.
 */
public final class HttpServerVertx extends VertxWrapper {

    private static final int CLOSE_WAIT_S = 30;

    private final int idleTimeoutMs;
    private final int headerTimeoutMs;

    private HttpServerVertx(VertxInternal delegate, int idleTimeoutMs, int headerTimeoutMs) {
        super(delegate);
        this.idleTimeoutMs = idleTimeoutMs;
        this.headerTimeoutMs = headerTimeoutMs;
    }

    /** {@code idleTimeoutMs}, {@code headerTimeoutMs} 0: no such bound. */
    public static HttpServerVertx create(int idleTimeoutMs, int headerTimeoutMs) {
        // The HTTP server serves no files: without class-path resolving Vert.x makes no vertx-cache-<uuid> folder
        // in the temporary directory, which a stop by SIGKILL (its shutdown hook never runs) left behind each time.
        VertxOptions options = new VertxOptions().setFileSystemOptions(
                new FileSystemOptions().setClassPathResolvingEnabled(false).setFileCachingEnabled(false));
        return new HttpServerVertx((VertxInternal) Vertx.vertx(options), idleTimeoutMs, headerTimeoutMs);
    }

    @Override
    public HttpServer createHttpServer(HttpServerOptions options) {
        HttpServerOptions tuned = new HttpServerOptions(options)
                .setIdleTimeout(idleTimeoutMs).setIdleTimeoutUnit(TimeUnit.MILLISECONDS);
        // what VertxImpl.createHttpServer makes, with the request head bound (0: no deadline) and chunked requests closing
        HttpServer server = new HeadBoundedHttpServer(delegate, tuned, headerTimeoutMs);
        return server.invalidRequestHandler(new InvalidRequests(tuned));
    }

    @Override
    public HttpServer createHttpServer() {
        return createHttpServer(new HttpServerOptions());
    }

    /** Closes the underlying Vert.x instance (its event loops), waiting for it. */
    public void closeAndWait() throws Exception {
        delegate.close().toCompletionStage().toCompletableFuture().get(CLOSE_WAIT_S, TimeUnit.SECONDS);
    }

    @Override
    public String toString() {
        return "Vert.x of the coordinator's HTTP server (idle timeout " + idleTimeoutMs + " ms, request head within "
                + headerTimeoutMs + " ms)";
    }
}
