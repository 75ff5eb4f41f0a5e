package dev.agentcoordinator.api;

import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.impl.DefaultCamelContext;
import org.apache.camel.support.DefaultExchange;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The paths of a bounded send that a real broker does not produce on cue: a send past its credits that the broker does
 * not confirm in time (here a route that holds the send until the test ends), which may still arrive.
 */
class BoundedBrokerSendTest {
    private final CountDownLatch released = new CountDownLatch(1);
    private final AtomicInteger sends = new AtomicInteger();
    private static final int AT_ONCE = 20;   // the HTTP server's workers
    private final CountDownLatch gathered = new CountDownLatch(AT_ONCE);
    private CamelContext camel;

    @BeforeEach
    void start() throws Exception {
        camel = new DefaultCamelContext();
        camel.addRoutes(new RouteBuilder() {
            @Override
            public void configure() {
                from("direct:held").process(e -> {
                    sends.incrementAndGet();
                    released.await(60, TimeUnit.SECONDS);   // a send the broker neither confirms nor fails
                });
                from("direct:gathered").process(e -> {
                    gathered.countDown();
                    gathered.await(60, TimeUnit.SECONDS);   // each send goes on once all of them run at once
                });
                from("direct:quick").process(e -> sends.incrementAndGet());
                from("direct:failing").process(e -> {
                    throw new IllegalStateException("refused for its own reason");
                });
            }
        });
        camel.start();
    }

    @AfterEach
    void stop() {
        released.countDown();
        camel.stop();
    }

    @Test
    void aSendPastItsCreditsThatIsNotConfirmedInTimeMayStillArrive() {
        BoundedBrokerSend bounded = new BoundedBrokerSend("test-send", 200, 500);
        long asked = System.nanoTime();
        assertThatThrownBy(() -> bounded.sendTo("direct:held", "post it again with its id").process(exchange()))
                .isInstanceOfSatisfying(BrokerBlocksSends.class, e -> assertThat(e.notSent()).isFalse())
                .hasMessage("the broker did not confirm the send within 700 ms: it may still arrive; post it again with its id");
        // the bound and the confirmation's time, and not much more (generous: a busy machine)
        assertThat(Duration.ofNanos(System.nanoTime() - asked)).isBetween(Duration.ofMillis(700), Duration.ofSeconds(10));
    }

    /** Before, a ninth send running beside eight others was refused as if the broker blocked sends (step replies too). */
    @Test
    void sendsRunningBesideEachOtherWhileTheBrokerTakesThemAreNotRefused() throws Exception {
        BoundedBrokerSend bounded = new BoundedBrokerSend("test-send", 60_000, 500);
        java.util.concurrent.ExecutorService callers = java.util.concurrent.Executors.newFixedThreadPool(AT_ONCE);
        try {
            java.util.List<java.util.concurrent.Future<Object>> calls = new java.util.ArrayList<>();
            for (int i = 0; i < AT_ONCE; i++) {
                calls.add(callers.submit(() -> {
                    bounded.sendTo("direct:gathered", "post it again").process(exchange());
                    return null;
                }));
            }
            for (java.util.concurrent.Future<Object> call : calls) {
                call.get(60, TimeUnit.SECONDS);   // throws what a refused send threw
            }
        } finally {
            callers.shutdownNow();
        }
    }

    @Test
    void whileEightSendsGivenUpOnStillWaitForTheBrokerTheNextIsRefusedAtOnce() throws Exception {
        BoundedBrokerSend bounded = new BoundedBrokerSend("test-send", 100, 100);
        for (int i = 0; i < BoundedBrokerSend.MAX_WAITING_SENDS; i++) {
            assertThatThrownBy(() -> bounded.sendTo("direct:held", "post it again").process(exchange()))
                    .hasMessageContaining("it may still arrive");
        }
        assertThatThrownBy(() -> bounded.sendTo("direct:quick", "post it again").process(exchange()))
                .isInstanceOfSatisfying(BrokerBlocksSends.class, e -> assertThat(e.notSent()).isTrue())
                .hasMessage("the broker blocks sends: 8 sends of this call given up on still wait for it; not sent");
        assertThat(sends).hasValue(BoundedBrokerSend.MAX_WAITING_SENDS);

        released.countDown();   // the broker takes them: sends go again
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> {
            bounded.sendTo("direct:quick", "post it again").process(exchange());
            return true;
        });
    }

    @Test
    void workLeftToGoOnIsAnsweredPastTheBoundAndGoesOn() {
        BoundedBrokerSend bounded = new BoundedBrokerSend("test-send", 200, 500);
        assertThatThrownBy(() -> bounded.goOnWithout("direct:held").process(exchange()))
                .isInstanceOf(BrokerBlocksSends.class).hasMessage("the broker did not confirm the send within 700 ms");
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> sends.get() == 1);
    }

    @Test
    void onceASendOfTheCallWasGivenUpOnItsLaterSendsAreNotTried() {
        BoundedBrokerSend bounded = new BoundedBrokerSend("test-send", 200, 500);
        AtomicBoolean givenUp = new AtomicBoolean();
        Exchange first = exchange();
        first.setProperty(BoundedBrokerSend.GIVEN_UP_IN_THIS_CALL, givenUp);
        assertThatThrownBy(() -> bounded.goOnWithout("direct:held").process(first)).isInstanceOf(BrokerBlocksSends.class);
        Exchange second = exchange();
        second.setProperty(BoundedBrokerSend.GIVEN_UP_IN_THIS_CALL, givenUp);
        assertThatThrownBy(() -> bounded.goOnWithout("direct:held").process(second))
                .isInstanceOfSatisfying(BrokerBlocksSends.class, e -> assertThat(e.notSent()).isTrue())
                .hasMessage("the broker blocks sends: an earlier send of this call waited for it past 200 ms");
        assertThat(sends).hasValue(1);
    }

    @Test
    void aSendThatFailsForAnotherReasonFailsWithIt() {
        BoundedBrokerSend bounded = new BoundedBrokerSend("test-send", 200, 500);
        assertThatThrownBy(() -> bounded.sendTo("direct:failing", "post it again").process(exchange()))
                .isInstanceOf(IllegalStateException.class).hasMessage("refused for its own reason");
    }

    private Exchange exchange() {
        Exchange exchange = new DefaultExchange(camel);
        exchange.getMessage().setBody("{}");
        return exchange;
    }
}
