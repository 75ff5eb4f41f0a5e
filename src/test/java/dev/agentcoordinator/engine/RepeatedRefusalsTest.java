package dev.agentcoordinator.engine;

import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

class RepeatedRefusalsTest {
    private final AtomicLong now = new AtomicLong(1_764_000_000_000L);
    private final RepeatedRefusals refusals = new RepeatedRefusals(now::get);

    /** After the first refusal (raised as a failure), one line at most every 30 s per attempt, counting the ones between. */
    @Test
    void refusalsAfterTheFirstAreToldAtMostEveryThirtySecondsWithTheirCount() {
        String key = RepeatedRefusals.key("row-1", 2);
        assertThat(refusals.refusedBefore(key)).isFalse();
        refusals.refusedFirst(key);
        try (CapturedLog log = CapturedLog.of(Endpoints.PROGRESS_LOG)) {
            for (int i = 0; i < 10; i++) {
                now.addAndGet(200);
                refusals.refusedAgain(key, "step s (attempt 2)", new IllegalStateException("Address \"agent.x\" is full"));
            }
            assertThat(log.lines()).isEmpty();
            now.addAndGet(RepeatedRefusals.TELL_EVERY_MS);
            refusals.refusedAgain(key, "step s (attempt 2)", new IllegalStateException("Address \"agent.x\" is full"));
            assertThat(log.lines()).containsExactly("WARN step s (attempt 2): the broker refused its request again (Address"
                    + " \"agent.x\" is full); it is sent again every sweep period until it goes or the attempt's deadline passes"
                    + " (11 more refusal(s) since the last line)");
        }
        refusals.sent(key);
        assertThat(refusals.refusedBefore(key)).as("a later refusal of the attempt is a first one again").isFalse();
    }
    /**
     * A refusal comes from the JMS producer as Spring's UncategorizedJmsException, whose own message names nothing
     * ("Uncategorized exception occurred during JMS processing"): the line names the broker's reason, its innermost cause.
     */
    @Test
    void aRefusalIsToldInTheBrokersWords() {
        String key = RepeatedRefusals.key("row-2", 1);
        refusals.refusedFirst(key);
        String full = "AMQ219058: Address \"agent.nobody\" is full. Message encode size = 2131B";
        jakarta.jms.JMSException refused = new jakarta.jms.JMSException(full);
        refused.initCause(new org.apache.activemq.artemis.api.core.ActiveMQAddressFullException(full));
        try (CapturedLog log = CapturedLog.of(Endpoints.PROGRESS_LOG)) {
            now.addAndGet(RepeatedRefusals.TELL_EVERY_MS);
            refusals.refusedAgain(key, "step ask (attempt 1)", new org.springframework.jms.UncategorizedJmsException(refused));
            assertThat(log.lines()).singleElement().asString()
                    .startsWith("WARN step ask (attempt 1): the broker refused its request again (" + full + ");");
        }
    }
}
