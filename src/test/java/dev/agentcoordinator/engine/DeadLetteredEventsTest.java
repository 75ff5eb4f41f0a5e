package dev.agentcoordinator.engine;

import jakarta.jms.ConnectionFactory;
import jakarta.jms.JMSException;
import org.junit.jupiter.api.Test;

import java.lang.reflect.Proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** What is read of a dead letter, and what a read that fails answers. */
class DeadLetteredEventsTest {

    @Test
    void aReadThatFailsThrowsWhatItFailedWith() {
        DeadLetteredEvents deadLetters = new DeadLetteredEvents(factory(() -> {
            throw new JMSException("refused by the broker");
        }));

        assertThatThrownBy(() -> deadLetters.read(null, null, 10)).isInstanceOf(JMSException.class).hasMessage("refused by the broker");
        assertThatThrownBy(() -> deadLetters.take("ID:1", true, body -> null)).isInstanceOf(JMSException.class);
    }

    /** A listing shows the start of a long body and says it is cut; the whole is there for one dead letter. */
    @Test
    void aLongBodyIsCutInAListing() {
        DeadLetteredEvents.DeadLetter deadLetter = new DeadLetteredEvents.DeadLetter("ID:1", null, "why", "e-1", "T", "x".repeat(5000));

        assertThat(deadLetter.toJson(4096).path("body").asText()).hasSize(4096);
        assertThat(deadLetter.toJson(4096).path("body_truncated").asBoolean()).isTrue();
        assertThat(deadLetter.toJson(4096).path("body_length").asInt()).isEqualTo(5000);
        assertThat(deadLetter.toJson(Integer.MAX_VALUE).path("body").asText()).hasSize(5000);
        assertThat(deadLetter.toJson(Integer.MAX_VALUE).has("body_truncated")).isFalse();
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
