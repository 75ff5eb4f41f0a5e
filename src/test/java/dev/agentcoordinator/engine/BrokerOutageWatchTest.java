package dev.agentcoordinator.engine;

import dev.agentcoordinator.infra.EmbeddedBroker;
import dev.agentcoordinator.infra.Messaging;
import org.apache.activemq.artemis.core.protocol.core.impl.PacketImpl;
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

    /**
     * A database outage suspends the reply consumers but leaves them open: the broker sends the replies that arrive
     * meanwhile into their buffers, where a browse does not see them. Once resumed, a quiet spell still holds for them
     * until the watch counts the queue empty (in-delivery messages included), not as soon as a look finds nothing.
     */
    @Test
    void repliesInTheBuffersOfConsumersResumedAfterADatabaseOutageAreHeldForUntilTheQueueIsEmpty() throws Exception {
        ReplyBacklog backlog = new ReplyBacklog();
        String queue = "coordinator.replies";
        try (EmbeddedBroker broker = new EmbeddedBroker(dev.agentcoordinator.infra.FreePort.on(EmbeddedBroker.HOST), dataDir)) {
            String url = broker.start();
            try (BrokerOutageWatch watch = BrokerOutageWatch.start(Messaging.connectionFactory(url, null, null), backlog, queue, 500);
                 jakarta.jms.Connection consumers = Messaging.connectionFactory(url, null, null).createConnection();
                 jakarta.jms.Connection agent = Messaging.connectionFactory(url, null, null).createConnection()) {
                jakarta.jms.Session consuming = consumers.createSession(true, jakarta.jms.Session.SESSION_TRANSACTED);
                jakarta.jms.MessageConsumer suspended = consuming.createConsumer(consuming.createQueue(queue));
                consumers.start();   // with the client's default window: the broker sends replies ahead into its buffer
                backlog.holdMs();
                backlog.taken(System.currentTimeMillis() - 40);
                backlog.consumersSuspended();   // the database is unreachable: the consumer takes nothing
                jakarta.jms.Session replying = agent.createSession(false, jakarta.jms.Session.AUTO_ACKNOWLEDGE);
                replying.createProducer(replying.createQueue(queue)).send(replying.createTextMessage("{\"status\":\"completed\"}"));
                long reachedBrokerBy = System.currentTimeMillis();   // a persistent send returns once the broker has it
                backlog.consumersResumed();   // resumed, and slow to take the reply

                await().pollInterval(Duration.ofMillis(100)).atMost(Duration.ofSeconds(30)).until(() -> backlog.holdMs().isPresent());
                // several looks, each finding nothing to browse: the reply is in delivery to the consumer
                long looksFrom = System.currentTimeMillis();
                await().pollInterval(Duration.ofMillis(100)).atMost(Duration.ofSeconds(30))
                        .until(() -> System.currentTimeMillis() - looksFrom >= 3 * BrokerOutageWatch.LOOK_MS);
                long askedAt = System.currentTimeMillis();
                assertThat(backlog.holdMs().getAsLong())
                        .as("a reply kept back in a resumed consumer's buffer: no attempt whose deadline came after it arrived is judged late")
                        .isGreaterThanOrEqualTo(askedAt - reachedBrokerBy);

                assertThat(suspended.receive(10_000)).isNotNull();
                consuming.commit();   // taken and settled (outside the backlog): the queue is empty now
                await().pollInterval(Duration.ofMillis(100)).atMost(Duration.ofSeconds(30))
                        .until(() -> backlog.holdMs().orElse(Long.MAX_VALUE) < BrokerOutageWatch.LOOK_MS * 4);
            }
        }
    }

    /**
     * An idle coordinator looks at its reply queues every {@link BrokerOutageWatch#LOOK_MS}: each look made and closed a
     * session and a browser (six round trips a queue). The session is kept between looks; only the browse is made anew
     * (a browser's enumeration is a snapshot of its own consumer).
     */
    @Test
    void anIdleWatchLooksAtItsQueueOnOneSessionKeptBetweenLooks() throws Exception {
        ReplyBacklog backlog = new ReplyBacklog();
        java.util.concurrent.atomic.AtomicInteger sessionsMade = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.atomic.AtomicInteger browses = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.atomic.AtomicInteger sessionsByTheSecondLook = new java.util.concurrent.atomic.AtomicInteger(-1);
        try (EmbeddedBroker broker = new EmbeddedBroker(dev.agentcoordinator.infra.FreePort.on(EmbeddedBroker.HOST), dataDir)) {
            String url = broker.start();
            org.apache.activemq.artemis.jms.client.ActiveMQConnectionFactory factory =
                    (org.apache.activemq.artemis.jms.client.ActiveMQConnectionFactory) Messaging.connectionFactory(url, null, null);
            factory.getServerLocator().addOutgoingInterceptor((packet, connection) -> {
                if (packet.getType() == PacketImpl.CREATESESSION || packet.getType() == PacketImpl.CREATESESSION_V2) {
                    sessionsMade.incrementAndGet();
                } else if (packet.getType() == PacketImpl.SESS_CREATECONSUMER && browses.incrementAndGet() == 2) {
                    sessionsByTheSecondLook.set(sessionsMade.get());
                }
                return true;
            });
            try (BrokerOutageWatch watch = BrokerOutageWatch.start(factory, backlog, "coordinator.replies", 500)) {
                await().pollInterval(Duration.ofMillis(100)).atMost(Duration.ofSeconds(60)).until(() -> browses.get() >= 12);
                assertThat(sessionsMade.get()).as("sessions made by the twelfth look, as by the second").isEqualTo(sessionsByTheSecondLook.get());
            }
        }
    }

    /**
     * A browse returns messages by priority: a reply of a higher one at the head hid the older replies behind it. The
     * hold rests on the oldest reply queued.
     */
    @Test
    void aLookHoldsForTheOldestReplyAtTheHeadWhateverItsPriority() throws Exception {
        ReplyBacklog backlog = new ReplyBacklog();
        String queue = "test.prioritised-replies";   // not coordinator.#: no ingress stamp of the broker's, the senders' stand
        try (EmbeddedBroker broker = new EmbeddedBroker(dev.agentcoordinator.infra.FreePort.on(EmbeddedBroker.HOST), dataDir)) {
            String url = broker.start();
            long queuedAt = System.currentTimeMillis();
            try (jakarta.jms.Connection agent = Messaging.connectionFactory(url, null, null).createConnection();
                 jakarta.jms.Session session = agent.createSession(false, jakarta.jms.Session.AUTO_ACKNOWLEDGE)) {
                jakarta.jms.MessageProducer producer = session.createProducer(session.createQueue(queue));
                sendStampedReply(session, producer, queuedAt - 240_000, 4);
                for (int i = 0; i < 3; i++) {
                    sendStampedReply(session, producer, queuedAt, 9);
                }
            }
            try (BrokerOutageWatch watch = BrokerOutageWatch.start(Messaging.connectionFactory(url, null, null), backlog, queue, 500)) {
                await().pollInterval(Duration.ofMillis(100)).atMost(Duration.ofSeconds(30))
                        .untilAsserted(() -> assertThat(backlog.holdMs().orElse(0))
                                .as("a reply queued 4 minutes ago behind three of a higher priority").isGreaterThanOrEqualTo(240_000));
            }
        }
    }

    /**
     * A look read the first 10 messages of the browse, which comes by priority: more than 10 replies of a higher one (or
     * a large message among the first) hid an older reply behind them, and its attempt could time out though the reply
     * had reached the broker in time. Sent here as an agent's reply to a step of a higher priority would be.
     */
    @Test
    void aLookHoldsForTheOldestReplyBehindManyOfAHigherPriorityAndALargeOne() throws Exception {
        ReplyBacklog backlog = new ReplyBacklog();
        String queue = "test.prioritised-replies";   // not coordinator.#: no ingress stamp of the broker's, the senders' stand
        try (EmbeddedBroker broker = new EmbeddedBroker(dev.agentcoordinator.infra.FreePort.on(EmbeddedBroker.HOST), dataDir)) {
            String url = broker.start();
            long queuedAt = System.currentTimeMillis();
            try (jakarta.jms.Connection agent = Messaging.connectionFactory(url, null, null).createConnection();
                 jakarta.jms.Session session = agent.createSession(false, jakarta.jms.Session.AUTO_ACKNOWLEDGE)) {
                jakarta.jms.MessageProducer producer = session.createProducer(session.createQueue(queue));
                sendStampedReply(session, producer, queuedAt - 240_000, 4);
                // a large one first among those of the highest priority: over the client's minLargeMessageSize
                jakarta.jms.Message large = session.createTextMessage("x".repeat(300_000));
                large.setLongProperty(ReplyBacklog.INGRESS_TIMESTAMP, queuedAt);
                producer.send(large, jakarta.jms.DeliveryMode.PERSISTENT, 9, 0);
                for (int i = 0; i < 15; i++) {
                    sendStampedReply(session, producer, queuedAt, 7 + i % 3);
                }
            }
            try (BrokerOutageWatch watch = BrokerOutageWatch.start(Messaging.connectionFactory(url, null, null), backlog, queue, 500)) {
                await().pollInterval(Duration.ofMillis(100)).atMost(Duration.ofSeconds(60))
                        .untilAsserted(() -> assertThat(backlog.holdMs().orElse(0))
                                .as("a reply queued 4 minutes ago behind a large one and 15 of higher priorities").isGreaterThanOrEqualTo(240_000));
            }
        }
    }

    /**
     * The broker evaluates the filter a look's browses ask for older replies with: it reads a reply's arrival as the look
     * does, the broker's stamp of a core reply (a property) or of an AMQP one (an annotation), else its timestamp.
     */
    @Test
    void theFilterOfOlderRepliesReadsTheBrokersStampOfACoreOrAnAmqpReplyElseItsTimestamp() throws Exception {
        org.apache.activemq.artemis.core.filter.Filter before = org.apache.activemq.artemis.core.filter.impl.FilterImpl
                .createFilter(BrokerOutageWatch.arrivedBefore(1_000));
        assertThat(before.match(coreReply(999L, 5_000))).as("a core reply stamped before").isTrue();
        assertThat(before.match(coreReply(1_000L, 5))).as("a core reply stamped then, though sent before").isFalse();
        assertThat(before.match(coreReply(null, 999))).as("an unstamped core reply sent before").isTrue();
        assertThat(before.match(coreReply(null, 1_000))).as("an unstamped core reply sent then").isFalse();
        assertThat(before.match(amqpReply(999L, 5_000))).as("an AMQP reply stamped before").isTrue();
        assertThat(before.match(amqpReply(1_000L, 5))).as("an AMQP reply stamped then, though created before").isFalse();
        assertThat(before.match(amqpReply(null, 999))).as("an unstamped AMQP reply created before").isTrue();
    }

    private static org.apache.activemq.artemis.api.core.Message coreReply(Long stamp, long timestamp) {
        org.apache.activemq.artemis.core.message.impl.CoreMessage reply = new org.apache.activemq.artemis.core.message.impl.CoreMessage(1, 100);
        reply.setTimestamp(timestamp);
        if (stamp != null) {
            reply.putLongProperty(org.apache.activemq.artemis.api.core.Message.HDR_INGRESS_TIMESTAMP, stamp);
        }
        return reply;
    }

    private static org.apache.activemq.artemis.api.core.Message amqpReply(Long stamp, long created) {
        org.apache.qpid.proton.amqp.messaging.Properties properties = new org.apache.qpid.proton.amqp.messaging.Properties();
        properties.setCreationTime(new java.util.Date(created));
        java.util.Map<org.apache.qpid.proton.amqp.Symbol, Object> annotations = new java.util.HashMap<>();
        if (stamp != null) {
            annotations.put(org.apache.activemq.artemis.protocol.amqp.converter.AMQPMessageSupport.INGRESS_TIME_MSG_ANNOTATION, stamp);
        }
        return org.apache.activemq.artemis.protocol.amqp.broker.AMQPStandardMessage.createMessage(1, 0,
                org.apache.activemq.artemis.api.core.SimpleString.of("coordinator.replies"), null, properties, null, annotations, null, null,
                new org.apache.qpid.proton.amqp.messaging.AmqpValue("{\"status\":\"completed\"}"));
    }

    /**
     * A look reads the properties of the messages at the queue's head, never their bodies: a reply may be tens of MB,
     * and the JMS client decodes a text message's body on receipt (the watch's factory has no body-size bound). Proved as
     * OversizedBodyUnreadTest does: the large message's body never read into the client's buffer.
     */
    @Test
    void aLookNeverReadsTheBodyOfAReplyAtTheHead() throws Exception {
        ReplyBacklog backlog = new ReplyBacklog();
        String queue = "coordinator.replies";
        java.util.Queue<org.apache.activemq.artemis.core.client.impl.ClientLargeMessageImpl> received = new java.util.concurrent.ConcurrentLinkedQueue<>();
        try (EmbeddedBroker broker = new EmbeddedBroker(dev.agentcoordinator.infra.FreePort.on(EmbeddedBroker.HOST), dataDir)) {
            String url = broker.start();
            long reachedBrokerBy;
            try (jakarta.jms.Connection agent = Messaging.connectionFactory(url, null, null).createConnection();
                 jakarta.jms.Session session = agent.createSession(false, jakarta.jms.Session.AUTO_ACKNOWLEDGE)) {
                // 600 KB: over the client's minLargeMessageSize (100 KiB), so its body comes after its properties
                session.createProducer(session.createQueue(queue)).send(session.createTextMessage("x".repeat(300_000)));
                reachedBrokerBy = System.currentTimeMillis();
            }
            org.apache.activemq.artemis.jms.client.ActiveMQConnectionFactory factory =
                    (org.apache.activemq.artemis.jms.client.ActiveMQConnectionFactory) Messaging.connectionFactory(url, null, null);
            factory.getServerLocator().addIncomingInterceptor((packet, connection) -> {
                if (packet instanceof org.apache.activemq.artemis.core.protocol.core.impl.wireformat.SessionReceiveLargeMessage large
                        && large.getLargeMessage() instanceof org.apache.activemq.artemis.core.client.impl.ClientLargeMessageImpl message) {
                    received.add(message);
                }
                return true;
            });
            try (BrokerOutageWatch watch = BrokerOutageWatch.start(factory, backlog, queue, 500)) {
                await().pollInterval(Duration.ofMillis(100)).atMost(Duration.ofSeconds(30))
                        .until(() -> backlog.holdMs().orElse(0) >= System.currentTimeMillis() - reachedBrokerBy);
            }
        }
        assertThat(received).as("the reply, received by a look").isNotEmpty();
        java.lang.reflect.Field buffer = org.apache.activemq.artemis.core.message.impl.CoreMessage.class.getDeclaredField("writableBuffer");
        buffer.setAccessible(true);
        for (org.apache.activemq.artemis.core.client.impl.ClientLargeMessageImpl message : received) {
            assertThat(buffer.get(message)).as("the body read into memory").isNull();
        }
    }

    /**
     * A browse refused once (a permission being changed, a security plugin that could not answer) ended the looks for
     * good. Its queue's quiet spells count as no backlog, as without looks, until a look tried again later is allowed.
     */
    @Test
    void aQueueThatRefusedABrowseIsLookedAtAgainOnceItAllowsOne() throws Exception {
        ReplyBacklog backlog = new ReplyBacklog();
        String queue = "coordinator.replies";
        java.util.concurrent.atomic.AtomicBoolean browseAllowed = new java.util.concurrent.atomic.AtomicBoolean();
        java.util.concurrent.atomic.AtomicInteger browsesRefused = new java.util.concurrent.atomic.AtomicInteger();
        int port = dev.agentcoordinator.infra.FreePort.on(EmbeddedBroker.HOST);
        org.apache.activemq.artemis.core.server.embedded.EmbeddedActiveMQ secured = brokerRefusingBrowses(port, browseAllowed, browsesRefused);
        String url = "tcp://" + EmbeddedBroker.HOST + ":" + port;
        try {
            try (jakarta.jms.Connection agent = Messaging.connectionFactory(url, null, null).createConnection();
                 jakarta.jms.Session session = agent.createSession(false, jakarta.jms.Session.AUTO_ACKNOWLEDGE)) {
                jakarta.jms.Message reply = session.createTextMessage("{\"status\":\"completed\"}");
                reply.setLongProperty(ReplyBacklog.INGRESS_TIMESTAMP, System.currentTimeMillis() - 60_000);
                session.createProducer(session.createQueue(queue)).send(reply);
            }
            try (BrokerOutageWatch watch = BrokerOutageWatch.start(Messaging.connectionFactory(url, null, null), backlog, queue, 500, 200)) {
                await().pollInterval(Duration.ofMillis(50)).atMost(Duration.ofSeconds(30)).until(() -> browsesRefused.get() >= 2);
                await().pollInterval(Duration.ofMillis(100)).atMost(Duration.ofSeconds(30)).until(() -> backlog.holdMs().isPresent());
                assertThat(backlog.holdMs()).as("refused: a quiet spell counts as no backlog, as without looks").hasValue(0);

                browseAllowed.set(true);
                await().pollInterval(Duration.ofMillis(100)).atMost(Duration.ofSeconds(30))
                        .untilAsserted(() -> assertThat(backlog.holdMs().orElse(0)).as("allowed again: the reply queued 60 s ago")
                                .isGreaterThanOrEqualTo(60_000));
            }
        } finally {
            secured.stop();
        }
    }
    /**
     * A stop interrupts a look waiting for the broker's answer (a coordinator's graceful stop under load): that is the
     * stop, not a failure, and logs no WARN line (an operator's SIGTERM logged "the broker watch could not look at a
     * reply queue: …ActiveMQInterruptedException").
     */
    @Test
    void aStopThatInterruptsALookLogsNoWarning() throws Exception {
        ReplyBacklog backlog = new ReplyBacklog();
        java.util.concurrent.CountDownLatch lookWaits = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch brokerNeverAnswers = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.atomic.AtomicReference<Thread> looking = new java.util.concurrent.atomic.AtomicReference<>();
        try (EmbeddedBroker broker = new EmbeddedBroker(dev.agentcoordinator.infra.FreePort.on(EmbeddedBroker.HOST), dataDir);
             CapturedLog log = CapturedLog.of(BrokerOutageWatch.class.getName())) {
            String url = broker.start();
            org.apache.activemq.artemis.jms.client.ActiveMQConnectionFactory factory =
                    (org.apache.activemq.artemis.jms.client.ActiveMQConnectionFactory) Messaging.connectionFactory(url, null, null);
            factory.getServerLocator().addOutgoingInterceptor((packet, connection) -> {
                if (packet.getType() == PacketImpl.SESS_CREATECONSUMER && looking.compareAndSet(null, Thread.currentThread())) {
                    lookWaits.countDown();
                    try {   // a broker slow to answer the browse: the look waits until the stop interrupts it
                        brokerNeverAnswers.await();
                    } catch (InterruptedException interrupted) {
                        Thread.currentThread().interrupt();   // the client's wait for the answer then ends as it would
                    }
                }
                return true;
            });
            BrokerOutageWatch watch = BrokerOutageWatch.start(factory, backlog, "coordinator.replies", 500);
            assertThat(lookWaits.await(60, java.util.concurrent.TimeUnit.SECONDS)).as("a look under way").isTrue();
            watch.stop();
            await().pollInterval(Duration.ofMillis(50)).atMost(Duration.ofSeconds(30)).until(() -> !looking.get().isAlive());
            assertThat(log.atLeast(org.apache.logging.log4j.Level.WARN)).isEmpty();
        }
    }

    /**
     * The broker lost just as a look began: its session waits, holding the connection, for the client's reconnection,
     * which goes on for ever. The stop closed the connection first, which waited for the look for good (a coordinator's
     * stop with the broker gone hung: StartupTest's, once under load).
     */
    @Test
    void aStopWhileALookWaitsForTheClientsReconnectionEnds() throws Exception {
        try (EmbeddedBroker broker = new EmbeddedBroker(dev.agentcoordinator.infra.FreePort.on(EmbeddedBroker.HOST), dataDir)) {
            String url = broker.start();
            try (dev.agentcoordinator.infra.BrokerProxy proxy = new dev.agentcoordinator.infra.BrokerProxy(
                    Integer.parseInt(url.substring(url.lastIndexOf(':') + 1)))) {
                java.util.concurrent.atomic.AtomicBoolean cutAtTheFirstLook = new java.util.concurrent.atomic.AtomicBoolean(true);
                java.util.concurrent.atomic.AtomicReference<ReplyBacklog> watched = new java.util.concurrent.atomic.AtomicReference<>();
                // the look's clock is read as it begins, before its session is made
                ReplyBacklog backlog = new ReplyBacklog(() -> {
                    if (Thread.currentThread().getName().equals("coordinator-reply-queue-look") && cutAtTheFirstLook.compareAndSet(true, false)) {
                        try {
                            proxy.cut();
                        } catch (java.io.IOException e) {
                            throw new java.io.UncheckedIOException(e);
                        }
                        await().atMost(Duration.ofSeconds(30)).until(() -> watched.get().isBrokerUnreachable());
                    }
                    return System.currentTimeMillis();
                }, () -> (System.nanoTime() / 1_000_000) + 1);
                watched.set(backlog);
                BrokerOutageWatch watch = BrokerOutageWatch.start(
                        Messaging.connectionFactory("tcp://127.0.0.1:" + proxy.port(), null, null), backlog, "coordinator.replies", 500);
                await().atMost(Duration.ofSeconds(60)).until(() -> !cutAtTheFirstLook.get() && backlog.isBrokerUnreachable());
                org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(Duration.ofSeconds(30), watch::stop);
            }
        }
    }

    /**
     * A look's last browse walks the whole queue on the broker (50,000 queued replies: 240 ms, the queue's deliveries
     * waiting meanwhile): after a slow look the next waits ten times as long, instead of {@link BrokerOutageWatch#LOOK_MS}.
     */
    @Test
    void afterASlowLookTheNextWaitsTenTimesItsLength() throws Exception {
        ReplyBacklog backlog = new ReplyBacklog();
        long slowMs = 400;
        java.util.List<Long> browsesAt = new java.util.concurrent.CopyOnWriteArrayList<>();
        try (EmbeddedBroker broker = new EmbeddedBroker(dev.agentcoordinator.infra.FreePort.on(EmbeddedBroker.HOST), dataDir)) {
            String url = broker.start();
            org.apache.activemq.artemis.jms.client.ActiveMQConnectionFactory factory =
                    (org.apache.activemq.artemis.jms.client.ActiveMQConnectionFactory) Messaging.connectionFactory(url, null, null);
            try (jakarta.jms.Connection agent = Messaging.connectionFactory(url, null, null).createConnection();
                 jakarta.jms.Session session = agent.createSession(false, jakarta.jms.Session.AUTO_ACKNOWLEDGE)) {
                // one reply queued: each look browses twice (the first message, then none older)
                sendStampedReply(session, session.createProducer(session.createQueue("coordinator.replies")), System.currentTimeMillis(), 4);
            }
            factory.getServerLocator().addOutgoingInterceptor((packet, connection) -> {
                if (packet instanceof org.apache.activemq.artemis.core.protocol.core.impl.wireformat.SessionCreateConsumerMessage browse) {
                    if (browse.getFilterString() == null) {
                        browsesAt.add(System.nanoTime());   // a look's first browse
                    }
                    // a broker slow to answer, as one walking a deep queue: the look takes at least this long
                    java.util.concurrent.locks.LockSupport.parkNanos(java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(slowMs));
                }
                return true;
            });
            BrokerOutageWatch watch = BrokerOutageWatch.start(factory, backlog, "coordinator.replies", 500);
            try {
                await().pollInterval(Duration.ofMillis(50)).atMost(Duration.ofSeconds(60)).until(() -> browsesAt.size() >= 2);
                // the second look came no sooner than the first's two browses of 400 ms and 9 times that
                assertThat(java.util.concurrent.TimeUnit.NANOSECONDS.toMillis(browsesAt.get(1) - browsesAt.get(0)))
                        .as("ms from one look to the next").isGreaterThanOrEqualTo(10 * slowMs);
            } finally {
                watch.stop();
            }
        }
    }

    /** A persistent reply as an agent sends it, stamped as the broker stamps its arrival, at a step's priority. */
    private static void sendStampedReply(jakarta.jms.Session session, jakarta.jms.MessageProducer producer, long arrivedAt,
                                         int priority) throws jakarta.jms.JMSException {
        jakarta.jms.Message reply = session.createTextMessage("{\"status\":\"completed\"}");
        reply.setLongProperty(ReplyBacklog.INGRESS_TIMESTAMP, arrivedAt);
        producer.send(reply, jakarta.jms.DeliveryMode.PERSISTENT, priority, 0);
    }

    /**
     * After a database outage a quiet spell holds for the replies the suspended consumers kept in their buffers until the
     * broker counts the queue empty; where the browse is refused, that count came only after a browse that succeeded, so
     * every timeout waited for the hold's bound (5 minutes and the outage) whenever no reply came (agents gone). The count
     * needs no browse permission: it is made at every look, browse refused or not.
     */
    @Test
    void aQueueWhoseBrowseIsRefusedIsStillCountedEmptyAfterADatabaseOutage() throws Exception {
        ReplyBacklog backlog = new ReplyBacklog();
        backlog.holdMs();
        backlog.taken(System.currentTimeMillis() - 40);   // a hold known: the suspension keeps back what came after it
        java.util.concurrent.atomic.AtomicInteger browsesRefused = new java.util.concurrent.atomic.AtomicInteger();
        int port = dev.agentcoordinator.infra.FreePort.on(EmbeddedBroker.HOST);
        org.apache.activemq.artemis.core.server.embedded.EmbeddedActiveMQ secured =
                brokerRefusingBrowses(port, new java.util.concurrent.atomic.AtomicBoolean(), browsesRefused);
        secured.getActiveMQServer().createQueue(org.apache.activemq.artemis.api.core.QueueConfiguration.of("coordinator.replies")
                .setRoutingType(org.apache.activemq.artemis.api.core.RoutingType.ANYCAST));   // the coordinator's, empty
        try (BrokerOutageWatch watch = BrokerOutageWatch.start(Messaging.connectionFactory("tcp://" + EmbeddedBroker.HOST + ":" + port,
                null, null), backlog, "coordinator.replies", 500, 60_000)) {
            await().pollInterval(Duration.ofMillis(50)).atMost(Duration.ofSeconds(30)).until(() -> browsesRefused.get() >= 1);
            backlog.consumersSuspended();   // the database unreachable
            backlog.consumersResumed();
            assertThat(backlog.wantsQueueCount()).as("replies kept back").isTrue();
            await().pollInterval(Duration.ofMillis(100)).atMost(Duration.ofSeconds(30))
                    .until(() -> !backlog.wantsQueueCount() && backlog.holdMs().equals(java.util.OptionalLong.of(0)));
        } finally {
            secured.stop();
        }
    }

    /** A started broker whose security refuses every browse while {@code browseAllowed} is false, counting them. */
    private org.apache.activemq.artemis.core.server.embedded.EmbeddedActiveMQ brokerRefusingBrowses(int port,
            java.util.concurrent.atomic.AtomicBoolean browseAllowed, java.util.concurrent.atomic.AtomicInteger browsesRefused) throws Exception {
        org.apache.activemq.artemis.core.config.Configuration config = new org.apache.activemq.artemis.core.config.impl.ConfigurationImpl()
                .setPersistenceEnabled(false).setSecurityEnabled(true).setJournalDirectory(dataDir.resolve("journal").toString())
                .setBindingsDirectory(dataDir.resolve("bindings").toString()).setPagingDirectory(dataDir.resolve("paging").toString())
                .setLargeMessagesDirectory(dataDir.resolve("large").toString())
                .addAcceptorConfiguration("tcp", "tcp://" + EmbeddedBroker.HOST + ":" + port);
        org.apache.activemq.artemis.core.server.embedded.EmbeddedActiveMQ secured = new org.apache.activemq.artemis.core.server.embedded.EmbeddedActiveMQ()
                .setConfiguration(config).setSecurityManager(new org.apache.activemq.artemis.spi.core.security.ActiveMQSecurityManager() {
                    @Override
                    public boolean validateUser(String user, String password) {
                        return true;
                    }

                    @Override
                    public boolean validateUserAndRole(String user, String password, java.util.Set<org.apache.activemq.artemis.core.security.Role> roles,
                                                       org.apache.activemq.artemis.core.security.CheckType checkType) {
                        if (checkType == org.apache.activemq.artemis.core.security.CheckType.BROWSE && !browseAllowed.get()) {
                            browsesRefused.incrementAndGet();
                            return false;
                        }
                        return true;
                    }
                });
        secured.start();
        return secured;
    }
}
