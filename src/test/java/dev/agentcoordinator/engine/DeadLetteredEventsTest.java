package dev.agentcoordinator.engine;

import jakarta.jms.ConnectionFactory;
import jakarta.jms.JMSException;
import org.junit.jupiter.api.Test;

import java.lang.reflect.Proxy;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** What is read of a dead letter, and an answer that does not wait for a broker that cannot be reached. */
class DeadLetteredEventsTest {

    @Test
    void aReadThatTheBrokerHoldsUpEndsEmptyAfterItsWait() throws Exception {
        CountDownLatch released = new CountDownLatch(1);
        DeadLetteredEvents deadLetters = new DeadLetteredEvents(factory(() -> {
            released.await(30, TimeUnit.SECONDS);   // as the client's reconnection holds a call during an outage
            throw new JMSException("broker gone");
        }));
        try {
            long started = System.nanoTime();
            assertThat(deadLetters.readWithin("e-1", 10, 200)).isEmpty();
            assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started)).isLessThan(10_000);
        } finally {
            released.countDown();
        }
    }

    @Test
    void aReadThatFailsThrowsWhatItFailedWith() {
        DeadLetteredEvents deadLetters = new DeadLetteredEvents(factory(() -> {
            throw new JMSException("refused by the broker");
        }));

        assertThatThrownBy(() -> deadLetters.readWithin(null, 10, 5_000)).isInstanceOf(JMSException.class)
                .hasMessage("refused by the broker");
    }

    @Test
    void theEventIdIsTheBodysEventIdWhenItIsAStringOrANumber() {
        assertThat(DeadLetteredEvents.eventIdOf("{\"type\":\"T\",\"event_id\":\"e-7\"}")).contains("e-7");
        assertThat(DeadLetteredEvents.eventIdOf("{\"type\":\"T\",\"event_id\":42}")).contains("42");
        assertThat(DeadLetteredEvents.eventIdOf("{\"type\":\"T\",\"event_id\":{\"a\":1}}")).isEmpty();
        assertThat(DeadLetteredEvents.eventIdOf("{\"type\":\"T\"}")).isEmpty();
        assertThat(DeadLetteredEvents.eventIdOf("[\"e-7\"]")).isEmpty();
        assertThat(DeadLetteredEvents.eventIdOf("not JSON {")).isEmpty();
        assertThat(DeadLetteredEvents.eventIdOf("")).isEmpty();
        assertThat(DeadLetteredEvents.eventIdOf(null)).isEmpty();
    }

    private interface Connect {
        Object connect() throws Exception;
    }

    /** A factory whose createConnection does {@code connect}. */
    private static ConnectionFactory factory(Connect connect) {
        return (ConnectionFactory) Proxy.newProxyInstance(ConnectionFactory.class.getClassLoader(),
                new Class<?>[]{ConnectionFactory.class}, (proxy, method, args) -> {
                    if (method.getName().equals("createConnection")) {
                        return connect.connect();
                    }
                    throw new UnsupportedOperationException(method.getName());
                });
    }
}
