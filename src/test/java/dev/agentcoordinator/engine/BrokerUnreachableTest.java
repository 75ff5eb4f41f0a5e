package dev.agentcoordinator.engine;

import org.apache.activemq.artemis.api.core.ActiveMQException;
import org.apache.activemq.artemis.api.core.ActiveMQExceptionType;
import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.impl.DefaultCamelContext;
import org.apache.logging.log4j.Level;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class BrokerUnreachableTest {

    /** What a send on a pooled producer left over from before a broker restart threw (a reliability run, 2026-12-05). */
    private static RuntimeException closedPooledProducer() {
        return new org.springframework.jms.IllegalStateException(new jakarta.jms.IllegalStateException("Producer is closed"));
    }

    @Test
    void aConnectionLostUnderTheCallCountsAsTheBrokerUnreachable() {
        assertThat(BrokerUnreachable.causes(closedPooledProducer())).isTrue();
        assertThat(BrokerUnreachable.causes(new jakarta.jms.JMSException("send failed") {{
            initCause(new ActiveMQException(ActiveMQExceptionType.NOT_CONNECTED, "AMQ219010: Connection is destroyed"));
        }})).isTrue();
        assertThat(BrokerUnreachable.causes(new jakarta.jms.TransactionRolledBackException("AMQ219030: rolled back on failover"))).isTrue();
        // pooled-jms's session after a kill -9 of the broker: before, four ERRORs with their stack traces per kill
        assertThat(BrokerUnreachable.causes(new org.springframework.jms.IllegalStateException(
                new jakarta.jms.IllegalStateException("The session has already been closed")))).isTrue();
    }

    @Test
    void otherFailuresDoNot() {
        assertThat(BrokerUnreachable.causes(new jakarta.jms.IllegalStateException("Cannot commit a non-transacted session"))).isFalse();
        assertThat(BrokerUnreachable.causes(new ActiveMQException(ActiveMQExceptionType.QUEUE_DOES_NOT_EXIST, "no queue"))).isFalse();
        assertThat(BrokerUnreachable.causes(new IllegalArgumentException("not JMS"))).isFalse();
        assertThat(BrokerUnreachable.causes(null)).isFalse();
    }

    /** One WARN line naming the route, not Camel's ERROR with the stack; the failure stays, so the message is delivered again. */
    @Test
    void aRouteFailingBecauseTheBrokerConnectionWasLostSaysSoInOneWarnLine() throws Exception {
        try (CamelContext camel = new DefaultCamelContext();
             CapturedLog broker = CapturedLog.of(DatabaseOutageErrors.BROKER_LOG_NAME);
             CapturedLog camelErrors = CapturedLog.of("org.apache.camel")) {
            camel.addRoutes(new DatabaseOutageErrors());
            camel.addRoutes(new RouteBuilder() {
                @Override
                public void configure() {
                    from("direct:send").routeId("sends-a-request").process(exchange -> {
                        throw closedPooledProducer();
                    });
                }
            });
            camel.start();
            Exchange failed = camel.createProducerTemplate().send("direct:send", exchange -> { });
            assertThat(failed.getException()).as("the failure stays: a broker message goes back").isNotNull();
            assertThat(broker.lines()).containsExactly("WARN route sends-a-request failed, broker connection lost: Producer is closed");
            assertThat(camelErrors.atLeast(Level.ERROR)).isEmpty();
        }
    }
}
