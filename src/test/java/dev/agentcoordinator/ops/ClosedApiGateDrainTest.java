package dev.agentcoordinator.ops;

import io.vertx.core.AsyncResult;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.RoutingContext;
import org.junit.jupiter.api.Test;

import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A stop closes the gate and then waits for the API requests it had let through, so that none reaches its route after
 * the route stopped (the platform-http consumer answers those an empty 503, without the gate's JSON and Retry-After).
 */
class ClosedApiGateDrainTest {

    @Test
    void aStopWaitsForTheRequestsLetThroughBeforeItAndRefusesTheOthersInJson() throws Exception {
        ClosedApiGate gate = new ClosedApiGate();
        gate.open();
        FakeRequest letThrough = new FakeRequest("/api/executions");
        gate.handle(letThrough.context);
        assertThat(letThrough.passedOn).as("let through while open").isTrue();

        AtomicBoolean stopped = new AtomicBoolean();
        Thread stop = new Thread(() -> {
            gate.closeForStop(Duration.ofSeconds(30));
            stopped.set(true);
        });
        stop.start();
        AtomicReference<FakeRequest> refused = new AtomicReference<>();
        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(5)).until(() -> {
            FakeRequest request = new FakeRequest("/api/executions");
            gate.handle(request.context);
            if (request.passedOn) {
                request.answer();   // before the stop closed the gate: its route answers it at once
                return false;
            }
            refused.set(request);
            return true;
        });
        FakeRequest afterTheClose = refused.get();
        assertThat(afterTheClose.status.get()).isEqualTo(503);
        assertThat(afterTheClose.headers).containsEntry("Content-Type", "application/json").containsEntry("Retry-After", "1");
        assertThat(afterTheClose.body.get()).isEqualTo("{\"error\":\"the coordinator is stopping\"}");
        await().during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(20))
                .until(() -> !stopped.get());

        letThrough.answer();
        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(5)).until(stopped::get);
        assertThat(gate.inFlight()).isZero();
    }

    @Test
    void aStopWaitsNoLongerThanItsBoundForARequestThatNeverEnds() {
        ClosedApiGate gate = new ClosedApiGate();
        gate.open();
        FakeRequest neverAnswered = new FakeRequest("/api/executions");
        gate.handle(neverAnswered.context);
        long started = System.nanoTime();
        gate.closeForStop(Duration.ofMillis(200));
        assertThat(Duration.ofNanos(System.nanoTime() - started)).isGreaterThanOrEqualTo(Duration.ofMillis(200));
        assertThat(gate.inFlight()).isEqualTo(1);
    }

    @Test
    void managementPathsAreNotWaitedFor() {
        ClosedApiGate gate = new ClosedApiGate();
        gate.open();
        FakeRequest metrics = new FakeRequest("/observe/metrics");
        gate.handle(metrics.context);
        assertThat(metrics.passedOn).isTrue();
        assertThat(gate.inFlight()).isZero();
    }

    /** Just what the gate calls of a Vert.x request: its path, next(), an end handler, and a response it may end. */
    private static final class FakeRequest {
        final Map<String, String> headers = new ConcurrentHashMap<>();
        final AtomicReference<Integer> status = new AtomicReference<>();
        final AtomicReference<String> body = new AtomicReference<>();
        final AtomicReference<Handler<AsyncResult<Void>>> endHandler = new AtomicReference<>();
        volatile boolean passedOn;
        final RoutingContext context;

        FakeRequest(String path) {
            HttpServerResponse response = (HttpServerResponse) Proxy.newProxyInstance(getClass().getClassLoader(),
                    new Class<?>[] {HttpServerResponse.class}, (proxy, method, args) -> switch (method.getName()) {
                        case "setStatusCode" -> {
                            status.set((Integer) args[0]);
                            yield proxy;
                        }
                        case "putHeader" -> {
                            headers.put(String.valueOf(args[0]), String.valueOf(args[1]));
                            yield proxy;
                        }
                        case "end" -> {
                            body.set(args == null ? "" : String.valueOf(args[0]));
                            yield Future.succeededFuture();
                        }
                        default -> throw new UnsupportedOperationException(method.getName());
                    });
            context = (RoutingContext) Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {RoutingContext.class},
                    (proxy, method, args) -> switch (method.getName()) {
                        case "normalizedPath" -> path;
                        case "response" -> response;
                        case "next" -> {
                            passedOn = true;
                            yield null;
                        }
                        case "addEndHandler" -> {
                            @SuppressWarnings("unchecked")
                            Handler<AsyncResult<Void>> handler = (Handler<AsyncResult<Void>>) args[0];
                            endHandler.set(handler);
                            yield 0;
                        }
                        default -> throw new UnsupportedOperationException(method.getName());
                    });
        }

        /** The route answered it: Vert.x calls the end handlers. */
        void answer() {
            endHandler.get().handle(Future.succeededFuture());
        }
    }
}
