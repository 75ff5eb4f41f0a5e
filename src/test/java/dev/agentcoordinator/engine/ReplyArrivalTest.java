package dev.agentcoordinator.engine;

import org.apache.camel.Exchange;
import org.apache.camel.impl.DefaultCamelContext;
import org.apache.camel.support.DefaultExchange;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** A reply's arrival stamp goes to the transitions; a broker that stamps none is told once, naming the setting. */
class ReplyArrivalTest {

    @Test
    void aStampIsPassedOnAndItsAbsenceToldOnce() throws Exception {
        try (DefaultCamelContext context = new DefaultCamelContext(); CapturedLog log = CapturedLog.of(ReplyArrival.class.getName())) {
            Exchange stamped = new DefaultExchange(context);
            stamped.getMessage().setHeader(ReplyBacklog.INGRESS_TIMESTAMP, 1_796_537_255_091L);
            ReplyArrival.stamp(stamped);
            assertThat(stamped.getMessage().getHeader(Headers.REPLY_ARRIVED_AT)).isEqualTo(1_796_537_255_091L);
            assertThat(log.lines()).isEmpty();

            for (int i = 0; i < 3; i++) {
                Exchange unstamped = new DefaultExchange(context);
                // a reply queue of another name (coordinator.reply.queue): the advice names it, not coordinator.#
                unstamped.getMessage().setHeader("JMSDestination", new org.apache.activemq.artemis.jms.client.ActiveMQQueue("app.replies"));
                ReplyArrival.stamp(unstamped);
                assertThat(unstamped.getMessage().getHeaders()).containsEntry(Headers.REPLY_ARRIVED_AT, null);
            }
            assertThat(log.lines()).hasSize(1);
            assertThat(log.lines().get(0)).startsWith("WARN a reply on the reply queue carries no arrival stamp (_AMQ_INGRESS_TIMESTAMP)")
                    .contains("enable-ingress-timestamp on an address setting that matches app.replies");
        }
    }
}
