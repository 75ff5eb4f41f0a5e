package dev.agentcoordinator.engine;

import dev.agentcoordinator.infra.EmbeddedBroker;
import dev.agentcoordinator.infra.Messaging;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** A real broker stopped and started again under the watch: the timeout sweeps hold meanwhile, and resume after. */
class BrokerOutageWatchTest {

    @TempDir
    Path dataDir;

    @Test
    void aBrokerThatCannotBeReachedAtTheStartIsAnOutageUntilItAnswers() throws Exception {
        ReplyBacklog backlog = new ReplyBacklog();
        int port = dev.agentcoordinator.infra.FreePort.on("127.0.0.1");   // nothing listens on it yet
        try (BrokerOutageWatch watch = BrokerOutageWatch.start(
                Messaging.connectionFactory("tcp://127.0.0.1:" + port, null, null), backlog, 200)) {
            assertThat(backlog.isBrokerUnreachable()).isTrue();
            try (EmbeddedBroker broker = new EmbeddedBroker(port, dataDir)) {
                broker.start();
                await().atMost(Duration.ofSeconds(30)).until(() -> !backlog.isBrokerUnreachable());
            }
        }
    }

    /**
     * The Artemis client handles every connection's failure on its JVM-wide pool, which is bounded; when a broker is
     * killed, the other connections' reconnection attempts can hold every thread of it until the broker is back. The
     * watch notices the outage at once all the same (a chaos run saw it noticed 7.9 and 12.7 s late, after the broker
     * was back).
     */
    @Test
    void aBrokerLostWhileEveryThreadOfTheClientsPoolIsBusyIsNoticedAtOnce() throws Exception {
        ReplyBacklog backlog = new ReplyBacklog();
        EmbeddedBroker broker = new EmbeddedBroker(dev.agentcoordinator.infra.FreePort.on(EmbeddedBroker.HOST), dataDir);
        String url = broker.start();
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        try (BrokerOutageWatch watch = BrokerOutageWatch.start(Messaging.connectionFactory(url, null, null), backlog, 500)) {
            java.util.concurrent.ExecutorService clientPool = org.apache.activemq.artemis.api.core.client.ActiveMQClient.getGlobalThreadPool();
            for (int i = 0; i < org.apache.activemq.artemis.api.core.client.ActiveMQClient.getGlobalThreadPoolSize() + 2; i++) {
                clientPool.execute(() -> {
                    try {
                        release.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                });
            }
            broker.close();
            await().atMost(Duration.ofSeconds(5)).until(backlog::isBrokerUnreachable);
        } finally {
            release.countDown();
            broker.close();
        }
    }

    @Test
    void theSweepsHoldWhileTheBrokerCannotBeReachedAndUntilItsConsumersCouldHaveReconnected() throws Exception {
        ReplyBacklog backlog = new ReplyBacklog();
        EmbeddedBroker broker = new EmbeddedBroker(dev.agentcoordinator.infra.FreePort.on(EmbeddedBroker.HOST), dataDir);
        String url = broker.start();
        int port = Integer.parseInt(url.substring(url.lastIndexOf(':') + 1));
        try (BrokerOutageWatch watch = BrokerOutageWatch.start(Messaging.connectionFactory(url, null, null), backlog, 500)) {
            assertThat(backlog.isBrokerUnreachable()).isFalse();

            broker.close();
            await().atMost(Duration.ofSeconds(30)).until(backlog::isBrokerUnreachable);
            assertThat(backlog.holdMs()).as("replies sent before the outage may wait in the broker").isEmpty();

            broker = new EmbeddedBroker(port, dataDir);
            broker.start();
            await().atMost(Duration.ofSeconds(30)).until(() -> !backlog.isBrokerUnreachable());
            assertThat(backlog.holdMs()).as("what queued meanwhile is not known yet").isEmpty();
        } finally {
            broker.close();
        }
    }

    /**
     * After the broker is back, the reply consumers may take nothing for a while (still reconnecting, failing again with
     * {@code Consumer is closed}, refused new sessions by a broker still starting): a quiet spell that is not a drained
     * queue. A chaos run timed out 31 attempts whose replies had reached the broker before their deadlines, read 20 s
     * later. The hold covers what the watch's look at the queue saw, and comes down once the queue is drained.
     */
    @Test
    void aQuietSpellAfterTheBrokerIsBackHoldsForTheRepliesStillQueued() throws Exception {
        ReplyBacklog backlog = new ReplyBacklog();
        EmbeddedBroker broker = new EmbeddedBroker(dev.agentcoordinator.infra.FreePort.on(EmbeddedBroker.HOST), dataDir);
        String url = broker.start();
        int port = Integer.parseInt(url.substring(url.lastIndexOf(':') + 1));
        String queue = "coordinator.replies";
        try (BrokerOutageWatch watch = BrokerOutageWatch.start(Messaging.connectionFactory(url, null, null), backlog, queue, 500)) {
            long reachedBrokerBy;
            try (jakarta.jms.Connection agent = Messaging.connectionFactory(url, null, null).createConnection();
                 jakarta.jms.Session session = agent.createSession(false, jakarta.jms.Session.AUTO_ACKNOWLEDGE)) {
                session.createProducer(session.createQueue(queue)).send(session.createTextMessage("{\"status\":\"completed\"}"));
                reachedBrokerBy = System.currentTimeMillis();   // a persistent send returns once the broker has it
            }
            broker.close();
            await().atMost(Duration.ofSeconds(30)).until(backlog::isBrokerUnreachable);
            broker = new EmbeddedBroker(port, dataDir);
            broker.start();
            await().atMost(Duration.ofSeconds(30)).until(() -> !backlog.isBrokerUnreachable());

            // no consumer takes the reply: the backlog hears of none
            await().pollInterval(Duration.ofMillis(100)).atMost(Duration.ofSeconds(30)).until(() -> backlog.holdMs().isPresent());
            long askedAt = System.currentTimeMillis();
            assertThat(backlog.holdMs().getAsLong())
                    .as("a reply queued since before the outage: no attempt whose deadline came after it arrived is judged late")
                    .isGreaterThanOrEqualTo(askedAt - reachedBrokerBy);

            try (jakarta.jms.Connection consumer = Messaging.connectionFactory(url, null, null).createConnection();
                 jakarta.jms.Session session = consumer.createSession(false, jakarta.jms.Session.AUTO_ACKNOWLEDGE)) {
                consumer.start();
                assertThat(session.createConsumer(session.createQueue(queue)).receive(10_000)).isNotNull();
            }
            await().pollInterval(Duration.ofMillis(100)).atMost(Duration.ofSeconds(30))
                    .until(() -> backlog.holdMs().orElse(Long.MAX_VALUE) < ReplyBacklog.BACKLOG_MS + BrokerOutageWatch.LOOK_MS);
        } finally {
            broker.close();
        }
    }
}
