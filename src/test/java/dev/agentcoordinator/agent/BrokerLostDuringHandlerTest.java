package dev.agentcoordinator.agent;

import dev.agentcoordinator.infra.EmbeddedBroker;
import dev.agentcoordinator.infra.FreePort;
import jakarta.jms.Connection;
import jakarta.jms.ConnectionFactory;
import jakarta.jms.DeliveryMode;
import jakarta.jms.Message;
import jakarta.jms.MessageProducer;
import jakarta.jms.Session;
import jakarta.jms.TextMessage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The broker goes away while a handler works: the request's transaction goes with the connection, so the
 * handler is stopped at once (it ran on until it returned, its reply could not leave, and with one consumer
 * the redelivered request waited for it), and the request is handled again once the broker is back.
 */
class BrokerLostDuringHandlerTest {
    @TempDir
    Path dataDir;

    @Test
    void theHandlerIsStoppedAndTheRequestHandledAgainAfterTheBrokerReturns() throws Exception {
        int port = FreePort.on(EmbeddedBroker.HOST);
        EmbeddedBroker broker = new EmbeddedBroker(port, dataDir);
        String url = broker.start();
        ConnectionFactory factory = AgentService.artemisConnectionFactory(url);
        FirstRunHeld held = new FirstRunHeld();
        AgentService service = AgentService.builder(factory, "lost-broker-agent").concurrency(1)
                .handle("long", request -> AgentReply.ok(Map.of("run", held.run()))).start();
        try {
            send(factory, AgentService.queueName("lost-broker-agent"), StepRequestClient.requestBody("lost-broker-agent", "long", Map.of()));
            assertThat(held.started.await(20, TimeUnit.SECONDS)).isTrue();

            broker.close();
            await().atMost(Duration.ofSeconds(20)).until(() -> held.interrupted.get() == 1);

            broker = new EmbeddedBroker(port, dataDir);
            broker.start();
            assertThat(replyAfterTheRestart(factory)).as("the reply of the request delivered again")
                    .contains("\"status\":\"ok\"").contains("\"run\":2");
            assertThat(held.runs.get()).isEqualTo(2);
        } finally {
            held.never.countDown();
            service.close();
            broker.close();
        }
    }

    /**
     * The same for a message from another agent: its handler ran on, its response could not leave, and the message,
     * delivered again, was handled a second time while the first run went on. It is stopped as a request's handler is.
     */
    @Test
    void anAgentMessageHandlerIsStoppedAndTheMessageHandledAgainAfterTheBrokerReturns(@TempDir Path messageDataDir) throws Exception {
        int port = FreePort.on(EmbeddedBroker.HOST);
        EmbeddedBroker broker = new EmbeddedBroker(port, messageDataDir);
        String url = broker.start();
        ConnectionFactory factory = AgentService.artemisConnectionFactory(url);
        FirstRunHeld held = new FirstRunHeld();
        AgentService service = AgentService.builder(factory, "lost-broker-listener").concurrency(1)
                .onMessage("LONG", message -> Map.of("run", held.run())).start();
        try {
            sendAgentMessage(factory, "lost-broker-listener",
                    AgentMessageWire.outgoing("m-1", "asker", "lost-broker-listener", "LONG", Map.of(), true, null));
            assertThat(held.started.await(30, TimeUnit.SECONDS)).isTrue();

            broker.close();
            await("the message handler interrupted").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50))
                    .until(() -> held.interrupted.get() == 1);

            broker = new EmbeddedBroker(port, messageDataDir);
            broker.start();
            assertThat(replyAfterTheRestart(factory)).as("the response to the message delivered again: the second run's")
                    .contains("\"status\":\"ok\"").contains("\"run\":2");
            assertThat(held.runs.get()).isEqualTo(2);
        } finally {
            held.never.countDown();
            service.close();
            broker.close();
        }
    }

    /**
     * The broker restarts while the agent waits for work: its client reconnects on its own, and the first request after
     * is handled once. Before, the transaction the worker had open when the connection went could not commit: that
     * request was handled, its commit failed ("rolled back on failover"), and it was handled again.
     */
    @Test
    void aRequestAfterTheBrokerRestartedWhileTheAgentWaitedIsHandledOnce(@TempDir Path otherDataDir) throws Exception {
        int port = FreePort.on(EmbeddedBroker.HOST);
        EmbeddedBroker broker = new EmbeddedBroker(port, otherDataDir);
        String url = broker.start();
        // as the demo agents connect: the client reconnects on its own, keeping its sessions
        ConnectionFactory factory = dev.agentcoordinator.infra.Messaging.agentConnectionFactory(url, null, null);
        // each request by its number: how often it was handled (a request in hand as the broker stops is handled again
        // after it, at least once being the protocol's promise; the requests after the restart are what this is about)
        java.util.Map<Integer, Integer> handled = new java.util.concurrent.ConcurrentHashMap<>();
        AgentService service = AgentService.builder(factory, "idle-broker-agent").concurrency(2)
                .handle("once", request -> {
                    int number = (int) request.inputLong("n", 0);
                    handled.merge(number, 1, Integer::sum);
                    return AgentReply.ok(Map.of("n", number));
                }).start();
        // the test's own consumer acknowledges each reply before receive returns: an acknowledgement still on its way
        // when the broker stops is lost, and that reply was delivered again after the restart
        ConnectionFactory ownFactory = dev.agentcoordinator.infra.Messaging.agentConnectionFactory(url + "?blockOnAcknowledge=true", null, null);
        try (Connection connection = ownFactory.createConnection()) {
            CountDownLatch lost = new CountDownLatch(1);
            ((org.apache.activemq.artemis.jms.client.ActiveMQConnection) connection).setFailoverListener(event -> {
                if (event == org.apache.activemq.artemis.api.core.client.FailoverEventType.FAILURE_DETECTED) {
                    lost.countDown();
                }
            });
            connection.start();
            Session session = connection.createSession(false, Session.AUTO_ACKNOWLEDGE);
            jakarta.jms.MessageConsumer replies = session.createConsumer(session.createQueue("test.lost-broker.replies"));
            send(factory, AgentService.queueName("idle-broker-agent"), StepRequestClient.requestBody("idle-broker-agent", "once", Map.of("n", 1)));
            assertThat(replyNumbered(replies, 1)).as("the agent works before the restart").isTrue();

            broker.close();
            assertThat(lost.await(20, TimeUnit.SECONDS)).as("the clients saw the broker go").isTrue();
            broker = new EmbeddedBroker(port, otherDataDir);
            broker.start();
            for (int request = 2; request <= 5; request++) {
                // the clients reconnect within their retry interval: a request sent before they are back waits for them
                send(factory, AgentService.queueName("idle-broker-agent"), StepRequestClient.requestBody("idle-broker-agent", "once", Map.of("n", request)));
                assertThat(replyNumbered(replies, request)).as("reply %d", request).isTrue();
            }
            for (int request = 2; request <= 5; request++) {
                assertThat(handled.get(request)).as("request %d handled once", request).isEqualTo(1);
            }
        } finally {
            service.close();
            broker.close();
        }
    }

    /**
     * Artemis tells the exception listener of a reconnection on a thread of its own, sometimes after the worker took the
     * next request on the reconnected session (350 ms late in one run): that notice is about a failure before the request,
     * whose transaction is fine, so the handler goes on and replies once. Before, it was stopped, the request rolled back
     * and handled a second time. The late notice is replayed here as the client gives it, in the order seen.
     */
    @Test
    void aLateNoticeOfAReconnectionDoesNotStopAHandlerThatStartedAfterIt(@TempDir Path lateDataDir) throws Exception {
        int port = FreePort.on(EmbeddedBroker.HOST);
        EmbeddedBroker broker = new EmbeddedBroker(port, lateDataDir);
        String url = broker.start();
        ConnectionFactory factory = dev.agentcoordinator.infra.Messaging.agentConnectionFactory(url, null, null);
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger runs = new AtomicInteger();
        AgentService service = AgentService.builder(factory, "late-notice-agent").concurrency(1)
                .handle("work", request -> {
                    runs.incrementAndGet();
                    started.countDown();
                    release.await(30, TimeUnit.SECONDS);
                    return AgentReply.ok(Map.of("runs", runs.get()));
                }).start();
        try (Connection connection = factory.createConnection()) {
            org.apache.activemq.artemis.jms.client.ActiveMQConnection workerConnection = await().atMost(Duration.ofSeconds(20))
                    .until(() -> connectionOfTheOnlyWorker(service), java.util.Objects::nonNull);
            // the failure and the reconnection, while the worker waits for work
            workerConnection.getFailoverListener().failoverEvent(org.apache.activemq.artemis.api.core.client.FailoverEventType.FAILURE_DETECTED);
            workerConnection.getFailoverListener().failoverEvent(org.apache.activemq.artemis.api.core.client.FailoverEventType.FAILOVER_COMPLETED);
            send(factory, AgentService.queueName("late-notice-agent"), StepRequestClient.requestBody("late-notice-agent", "work", Map.of()));
            assertThat(started.await(20, TimeUnit.SECONDS)).isTrue();
            // the exception listener's notice of that reconnection, late
            workerConnection.getExceptionListener().onException(new jakarta.jms.JMSException("reconnected", "FAILOVER"));
            release.countDown();

            connection.start();
            Session session = connection.createSession(false, Session.AUTO_ACKNOWLEDGE);
            Message reply = session.createConsumer(session.createQueue("test.lost-broker.replies")).receive(30_000);
            assertThat(reply).as("the reply").isNotNull();
            assertThat(((TextMessage) reply).getText()).as("handled once").contains("\"runs\":1");
        } finally {
            release.countDown();
            service.close();
            broker.close();
        }
    }

    /** The connection the agent's single worker consumes on now (null while it connects). */
    private static org.apache.activemq.artemis.jms.client.ActiveMQConnection connectionOfTheOnlyWorker(AgentService service) throws Exception {
        java.lang.reflect.Field workers = AgentService.class.getDeclaredField("workers");
        workers.setAccessible(true);
        Object worker = ((java.util.List<?>) workers.get(service)).get(0);
        java.lang.reflect.Field connection = RequestWorker.class.getDeclaredField("connection");
        connection.setAccessible(true);
        return (org.apache.activemq.artemis.jms.client.ActiveMQConnection) connection.get(worker);
    }

    /** Whether the reply of request {@code number} comes within 60 s (a late one of an earlier request is skipped). */
    private static boolean replyNumbered(jakarta.jms.MessageConsumer replies, int number) throws Exception {
        long deadline = System.currentTimeMillis() + 60_000;
        for (long left = 60_000; left > 0; left = deadline - System.currentTimeMillis()) {
            Message reply = replies.receive(left);
            if (reply == null) {
                return false;
            }
            String text = ((TextMessage) reply).getText();
            assertThat(text).contains("\"status\":\"ok\"");
            if (text.contains("\"n\":" + number + "}")) {
                return true;
            }
        }
        return false;
    }

    /**
     * The broker is gone for good and the agent stops: its workers hold no request (whatever they had goes back to the
     * queue with the connection), so the stop does not wait for them. Before, it waited the whole shutdown timeout
     * (30 s) for workers blocked in the client's reconnection (a receive, the rollback of a request given up).
     */
    @Test
    void aStopAfterTheBrokerWentAwayDoesNotWaitForTheReconnectingWorkers(@TempDir Path goneDataDir) throws Exception {
        int port = FreePort.on(EmbeddedBroker.HOST);
        EmbeddedBroker broker = new EmbeddedBroker(port, goneDataDir);
        broker.start();
        // as a broker killed: connections reset, without the goodbye of a broker stopped in this JVM
        dev.agentcoordinator.infra.BrokerProxy proxy = new dev.agentcoordinator.infra.BrokerProxy(port);
        org.apache.activemq.artemis.jms.client.ActiveMQConnectionFactory factory = dev.agentcoordinator.infra.Messaging
                .agentConnectionFactory("tcp://" + EmbeddedBroker.HOST + ":" + proxy.port(), null, null);
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch interrupted = new CountDownLatch(1);
        AgentService service = AgentService.builder(factory, "gone-broker-agent").concurrency(3)
                .handle("long", request -> {
                    started.countDown();
                    try {
                        new CountDownLatch(1).await(60, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        interrupted.countDown();
                        throw e;
                    }
                    return AgentReply.ok(Map.of());
                }).start();
        try {
            // one worker at work when the broker goes: its request goes back with the connection, and it has nothing to finish
            send(factory, AgentService.queueName("gone-broker-agent"), StepRequestClient.requestBody("gone-broker-agent", "long", Map.of()));
            assertThat(started.await(20, TimeUnit.SECONDS)).isTrue();
            proxy.cut();
            assertThat(interrupted.await(20, TimeUnit.SECONDS)).as("the handler at work stopped: the client saw the broker go").isTrue();

            long began = System.nanoTime();
            service.close();
            // at most a call timeout (10 s) for a connection whose loss the client had not taken in yet, not the 30 s
            assertThat(Duration.ofNanos(System.nanoTime() - began)).as("the stop's time").isLessThan(Duration.ofSeconds(20));
        } finally {
            service.close();
            factory.close();
            proxy.close();
            broker.close();
        }
    }

    /** A message from another agent as the coordinator delivers it, its response wanted on test.lost-broker.replies. */
    private static void sendAgentMessage(ConnectionFactory factory, String agent, String body) throws Exception {
        send(factory, AgentService.queueName(agent), body, true);
    }

    private static void send(ConnectionFactory factory, String queue, String body) throws Exception {
        send(factory, queue, body, false);
    }

    private static void send(ConnectionFactory factory, String queue, String body, boolean agentMessage) throws Exception {
        try (Connection connection = factory.createConnection()) {
            Session session = connection.createSession(false, Session.AUTO_ACKNOWLEDGE);
            MessageProducer producer = session.createProducer(session.createQueue(queue));
            producer.setDeliveryMode(DeliveryMode.PERSISTENT);
            TextMessage request = session.createTextMessage(body);
            request.setJMSCorrelationID("lost-broker-1");
            request.setJMSReplyTo(session.createQueue("test.lost-broker.replies"));
            if (agentMessage) {
                request.setStringProperty(AgentMessageWire.KIND_PROPERTY, AgentMessageWire.KIND_AGENT_MESSAGE);
            }
            producer.send(request);
        }
    }

    /** A handler's work whose first run waits until it is interrupted (the broker lost meanwhile); the next go through. */
    private static final class FirstRunHeld {
        final CountDownLatch started = new CountDownLatch(1);
        final CountDownLatch never = new CountDownLatch(1);
        final AtomicInteger runs = new AtomicInteger();
        final AtomicInteger interrupted = new AtomicInteger();

        /** @return which run this is */
        int run() throws InterruptedException {
            int run = runs.incrementAndGet();
            if (run == 1) {
                started.countDown();
                try {
                    never.await(60, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    interrupted.incrementAndGet();
                    throw e;
                }
            }
            return run;
        }
    }

    /** The text of the first reply on the test's reply queue, once the broker is back (null: none within 60 s). */
    private static String replyAfterTheRestart(ConnectionFactory factory) throws Exception {
        try (Connection connection = factory.createConnection()) {
            connection.start();
            Session session = connection.createSession(false, Session.AUTO_ACKNOWLEDGE);
            Message reply = session.createConsumer(session.createQueue("test.lost-broker.replies")).receive(60_000);
            return reply == null ? null : ((TextMessage) reply).getText();
        }
    }
}
