package dev.agentcoordinator.agent;

import dev.agentcoordinator.infra.OversizedBodyInterceptor;
import org.apache.activemq.artemis.jms.client.ActiveMQConnectionFactory;
import org.apache.activemq.artemis.junit.EmbeddedActiveMQExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * close() called from several threads at once (a shutdown hook and a try-with-resources), racing a start() of the same
 * builder: one close does the work and each returns with the service closed. The size bound's interceptor is on the
 * connection factory once per running service of a builder, and a close takes it off once: two at once took it off
 * twice, the second time the builder's other running service's, whose queue then had oversized bodies decoded again.
 */
class ConcurrentCloseAndStartTest {

    @RegisterExtension
    static final EmbeddedActiveMQExtension BROKER = new EmbeddedActiveMQExtension(45);
    @RegisterExtension
    final AgentTestClients clients = new AgentTestClients(BROKER, "closing");

    /** Each round races two closes and a start; the two closes leave a spin gate within nanoseconds of each other. */
    private static final int ROUNDS = 300;

    @Test
    void closesAtOnceTakeTheInterceptorOffOnceAndAStartAtTheSameTimePutsItsOwnOn() throws Exception {
        ActiveMQConnectionFactory factory = clients.connectionFactory();
        AgentService.Builder builder = AgentService.builder(factory, clients.agent()).handle("noop", request -> AgentReply.ok(Map.of()));
        ExecutorService threads = Executors.newFixedThreadPool(3);
        try (AgentService staying = builder.start()) {
            for (int round = 1; round <= ROUNDS; round++) {
                AgentService closing = builder.start();
                assertThat(interceptorsOn(factory)).as("round %d: both services' interceptors", round).isEqualTo(2);
                CountDownLatch ready = new CountDownLatch(2);
                CountDownLatch go = new CountDownLatch(1);
                CompletableFuture<Void> first = CompletableFuture.runAsync(() -> closeAtTheGate(closing, ready, go), threads);
                CompletableFuture<Void> second = CompletableFuture.runAsync(() -> closeAtTheGate(closing, ready, go), threads);
                CompletableFuture<AgentService> started = CompletableFuture.supplyAsync(() -> {
                    awaitQuietly(go);
                    return builder.start();
                }, threads);
                assertThat(ready.await(10, TimeUnit.SECONDS)).as("both closers at the gate").isTrue();
                go.countDown();

                first.get(20, TimeUnit.SECONDS);
                second.get(20, TimeUnit.SECONDS);
                AgentService next = started.get(20, TimeUnit.SECONDS);
                assertThat(closing.isRunning()).isFalse();
                assertThat(interceptorsOn(factory)).as("round %d: the staying and the started service's interceptors", round).isEqualTo(2);
                next.close();
                assertThat(interceptorsOn(factory)).as("round %d: the staying service's interceptor", round).isEqualTo(1);
            }
        } finally {
            threads.shutdownNow();
        }
        assertThat(interceptorsOn(factory)).as("every service closed").isZero();
    }

    /** Waits at the gate spinning, not parked: the two closes then run at the same moment, as unparked threads would not. */
    private static void closeAtTheGate(AgentService service, CountDownLatch ready, CountDownLatch go) {
        ready.countDown();
        long giveUp = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (go.getCount() > 0 && System.nanoTime() < giveUp) {
            Thread.onSpinWait();
        }
        service.close();
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The size-bound interceptors on the factory's locator (its list names each interceptor's class, once per install). */
    private static long interceptorsOn(ActiveMQConnectionFactory factory) {
        String list = factory.getServerLocator().getIncomingInterceptorList();
        return list == null ? 0 : Arrays.stream(list.split(",")).filter(OversizedBodyInterceptor.class.getName()::equals).count();
    }
}
