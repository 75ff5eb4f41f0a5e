package dev.agentcoordinator.infra;

import jakarta.jms.Connection;
import jakarta.jms.ConnectionFactory;
import jakarta.jms.Message;
import jakarta.jms.MessageConsumer;
import jakarta.jms.Session;
import jakarta.jms.TextMessage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.messaginghub.pooled.jms.JmsPoolConnectionFactory;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

class MessagingTest {

    @TempDir
    Path dataDir;

    @Test
    void clientDefaultsAreAddedUnlessTheUrlSetsThem() {
        assertThat(Messaging.withClientDefaults("tcp://broker:61616"))
                .isEqualTo("tcp://broker:61616?reconnectAttempts=-1&retryInterval=500&retryIntervalMultiplier=2.0&maxRetryInterval=5000"
                        + "&cacheDestinations=true&callTimeout=10000");
        assertThat(Messaging.withClientDefaults("tcp://broker:61616?reconnectAttempts=3&cacheDestinations=false"))
                .contains("cacheDestinations=false").doesNotContain("cacheDestinations=true")
                .startsWith("tcp://broker:61616?reconnectAttempts=3&cacheDestinations=false&retryInterval=500")
                .doesNotContain("reconnectAttempts=-1");
        // the Artemis client takes the URL parameter: no broker round trip per send to look a queue up
        assertThat(((org.apache.activemq.artemis.jms.client.ActiveMQConnectionFactory)
                Messaging.connectionFactory("tcp://broker:61616", null, null)).isCacheDestinations()).isTrue();
        // a call the broker never answers (a reconnection's first call to a broker killed and started again) holds the
        // connection and every session on it for 10 s, not Artemis' 30 s; the URL's own value wins, as does a probe's bound
        assertThat(((org.apache.activemq.artemis.jms.client.ActiveMQConnectionFactory)
                Messaging.connectionFactory("tcp://broker:61616", null, null)).getCallTimeout()).isEqualTo(10_000);
        try (var agents = Messaging.agentConnectionFactory("tcp://broker:61616", null, null);
             var own = Messaging.agentConnectionFactory("tcp://broker:61616?callTimeout=60000", null, null);
             var probe = Messaging.boundedConnectionFactory("tcp://broker:61616", null, null, 2000)) {
            assertThat(agents.getCallTimeout()).isEqualTo(10_000);
            assertThat(own.getCallTimeout()).isEqualTo(60_000);
            assertThat(probe.getCallTimeout()).isEqualTo(2000);
        }
        assertThat(Messaging.withClientDefaults("tcp://broker:61616?callFailoverTimeout=5000")).contains("&callTimeout=10000");
    }

    /**
     * As Camel's JmsTemplate and listener containers do, every use takes a connection from the pool.
     * Artemis reports the restart to the pool's exception listener, which drops the broken
     * connection; an operation racing with that may fail once (Camel's redelivery covers it), after
     * which the pool hands out working connections to the restarted broker.
     */
    /** Agents (the demo agents among them) take one request at a time: no prefetch, unless the URL says otherwise. */
    @Test
    void theAgentsFactoryDoesNotPrefetch() {
        try (var agents = Messaging.agentConnectionFactory("tcp://broker:61616", null, null);
             var own = Messaging.agentConnectionFactory("tcp://broker:61616?consumerWindowSize=1024", null, null)) {
            assertThat(agents.getConsumerWindowSize()).isZero();
            assertThat(agents.getReconnectAttempts()).isEqualTo(-1);
            assertThat(own.getConsumerWindowSize()).isEqualTo(1024);
        }
    }

    /** No Java object is deserialized from what the broker delivers, by any of the coordinator's factories. */
    @Test
    void noFactoryDeserializesObjects() {
        assertThat(((org.apache.activemq.artemis.jms.client.ActiveMQConnectionFactory) Messaging.connectionFactory("tcp://broker:61616", null, null))
                .getDeserializationDenyList()).isEqualTo("*");
        assertThat(Messaging.agentConnectionFactory("tcp://broker:61616", null, null).getDeserializationDenyList()).isEqualTo("*");
    }

    @Test
    void thePooledFactoryCarriesOnAfterABrokerRestart() throws Exception {
        EmbeddedBroker broker = new EmbeddedBroker(FreePort.on(EmbeddedBroker.HOST), dataDir);
        String url = broker.start();
        JmsPoolConnectionFactory pool = Messaging.pooledConnectionFactory(url, null, null, 1);
        try {
            send(pool, "before");

            broker.close();
            broker = new EmbeddedBroker(URI.create(url).getPort(), dataDir);
            broker.start();

            await().atMost(Duration.ofSeconds(15)).ignoreExceptions().until(() -> {
                send(pool, "after");
                return true;
            });
            // the pool may drop the connection it just handed out, when the restart's failure notice
            // reaches its exception listener late: receive in a transaction, so that a receive cut
            // short that way leaves both messages on the queue for the next try
            await().atMost(Duration.ofSeconds(30)).ignoreExceptions()
                    .untilAsserted(() -> assertThat(receiveBoth(pool)).containsExactly("before", "after"));
        } finally {
            pool.stop();
            broker.close();
        }
    }

    private static void send(ConnectionFactory factory, String body) throws Exception {
        try (Connection connection = factory.createConnection()) {
            Session session = connection.createSession(false, Session.AUTO_ACKNOWLEDGE);
            session.createProducer(session.createQueue("coordinator.test")).send(session.createTextMessage(body));
        }
    }

    private static List<String> receiveBoth(ConnectionFactory factory) throws Exception {
        try (Connection connection = factory.createConnection()) {
            connection.start();
            Session session = connection.createSession(true, Session.SESSION_TRANSACTED);
            MessageConsumer consumer = session.createConsumer(session.createQueue("coordinator.test"));
            List<String> texts = List.of(text(consumer.receive(10_000)), text(consumer.receive(10_000)));
            session.commit();
            return texts;
        }
    }

    private static String text(Message message) throws Exception {
        assertThat(message).isInstanceOf(TextMessage.class);
        return ((TextMessage) message).getText();
    }
}
