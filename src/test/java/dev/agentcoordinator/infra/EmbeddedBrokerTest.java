package dev.agentcoordinator.infra;

import jakarta.jms.Connection;
import jakarta.jms.ConnectionFactory;
import jakarta.jms.DeliveryMode;
import jakarta.jms.Message;
import jakarta.jms.MessageConsumer;
import jakarta.jms.MessageProducer;
import jakarta.jms.Session;
import jakarta.jms.TextMessage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;

import static dev.agentcoordinator.infra.StompFrames.readFrame;
import static dev.agentcoordinator.infra.StompFrames.writeFrame;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

class EmbeddedBrokerTest {

    @TempDir
    Path dataDir;

    @Test
    void startsOnAFreePortAndKeepsPersistentMessagesAcrossARestart() throws Exception {
        String url;
        try (EmbeddedBroker broker = new EmbeddedBroker(FreePort.on(EmbeddedBroker.HOST), dataDir)) {
            url = broker.start();
            assertThat(url).matches("tcp://127\\.0\\.0\\.1:\\d+");
            assertThat(port(url)).isPositive();
            send(Messaging.connectionFactory(url, null, null), "agent.test", "{\"hello\":1}");
        }
        assertThat(dataDir.resolve("journal")).isNotEmptyDirectory();

        try (EmbeddedBroker broker = new EmbeddedBroker(port(url), dataDir)) {
            assertThat(broker.start()).isEqualTo(url);
            assertThat(receive(Messaging.connectionFactory(url, null, null), "agent.test")).isEqualTo("{\"hello\":1}");
        }
    }

    /**
     * README "Configuration", coordinator.reply.queue: a reply queue of another name than coordinator.* gets the
     * broker's arrival stamp as the default one does (the late-reply check reads it; the user cannot configure the
     * embedded broker to add it).
     */
    @Test
    void aReplyQueueOfItsOwnNameIsStampedOnArrivalAsTheDefaultOneIs() throws Exception {
        try (EmbeddedBroker broker = new EmbeddedBroker(0, dataDir, EmbeddedBroker.DEFAULT_JOURNAL_BUFFER_TIMEOUT_US, "my.replies")) {
            ConnectionFactory factory = Messaging.connectionFactory(broker.start(), null, null);
            for (String queue : new String[] {"coordinator.replies", "my.replies"}) {
                send(factory, queue, "{\"status\":\"ok\"}");
                try (Connection connection = factory.createConnection()) {
                    connection.start();
                    Session session = connection.createSession(false, Session.AUTO_ACKNOWLEDGE);
                    Message message = session.createConsumer(session.createQueue(queue)).receive(10_000);
                    assertThat(message).as("message on " + queue).isNotNull();
                    assertThat(message.getObjectProperty("_AMQ_INGRESS_TIMESTAMP")).as("arrival stamp on " + queue).isNotNull();
                }
            }
        }
    }

    /** The journal holds every message as sent, in files readable by all: the folders it makes are its owner's alone. */
    @Test
    void theFoldersItMakesAreReadableByItsOwnerAlone(@TempDir Path parent) throws Exception {
        Path data = parent.resolve("data/artemis");
        try (EmbeddedBroker broker = new EmbeddedBroker(0, data)) {
            broker.start();
            assertThat(java.nio.file.Files.getPosixFilePermissions(data)).containsExactlyInAnyOrder(
                    java.nio.file.attribute.PosixFilePermission.OWNER_READ, java.nio.file.attribute.PosixFilePermission.OWNER_WRITE,
                    java.nio.file.attribute.PosixFilePermission.OWNER_EXECUTE);
            assertThat(java.nio.file.Files.getPosixFilePermissions(parent.resolve("data"))).hasSize(3);
        }
    }

    @Test
    void aDirectoryInUseByARunningBrokerIsRefusedNamingIt(@TempDir Path shared) throws Exception {
        try (EmbeddedBroker running = new EmbeddedBroker(0, shared)) {
            running.start();
            // Artemis itself would wait for the journal's lock for good
            assertTimeoutPreemptively(Duration.ofSeconds(30), () ->
                    assertThatThrownBy(() -> new EmbeddedBroker(0, shared).start())
                            .isInstanceOf(IOException.class)
                            .hasMessageContaining(shared.toAbsolutePath().toString())
                            .hasMessageContaining("in use by another running coordinator"));
            assertThat(running.url()).startsWith("tcp://");
        }
    }

    /** Both would pass the check of Artemis' lock and the second wait for that lock for good. */
    @Test
    void ofTwoBrokersStartedAtOnceOnOneDirectoryOneIsRefused(@TempDir Path shared) throws Exception {
        java.util.concurrent.ExecutorService starts = java.util.concurrent.Executors.newFixedThreadPool(2);
        java.util.concurrent.CountDownLatch go = new java.util.concurrent.CountDownLatch(1);
        try (EmbeddedBroker first = new EmbeddedBroker(0, shared); EmbeddedBroker second = new EmbeddedBroker(0, shared)) {
            java.util.List<java.util.concurrent.Future<String>> started = java.util.stream.Stream.of(first, second)
                    .map(broker -> starts.submit(() -> {
                        go.await();
                        return broker.start();
                    })).toList();
            go.countDown();
            java.util.List<Object> outcomes = new java.util.ArrayList<>();
            assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
                for (java.util.concurrent.Future<String> start : started) {
                    try {
                        outcomes.add(start.get());
                    } catch (java.util.concurrent.ExecutionException e) {
                        outcomes.add(e.getCause());
                    }
                }
            });
            assertThat(outcomes).filteredOn(String.class::isInstance).hasSize(1);
            assertThat(outcomes).filteredOn(IOException.class::isInstance).singleElement()
                    .satisfies(e -> assertThat(((IOException) e).getMessage()).contains("in use by another running coordinator"));
        } finally {
            starts.shutdownNow();
        }
    }

    @Test
    void aTakenPortIsAnErrorNamingItNotADeafBroker() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
             EmbeddedBroker broker = new EmbeddedBroker(taken.getLocalPort(), dataDir)) {
            assertThatThrownBy(broker::start)
                    .hasMessageContaining("127.0.0.1:" + taken.getLocalPort())
                    .hasMessageContaining("coordinator.broker.embedded.port");
        }
    }

    @Test
    void stampsWhatReachesTheCoordinatorsQueuesOnArrival() throws Exception {
        try (EmbeddedBroker broker = new EmbeddedBroker(0, dataDir)) {
            ConnectionFactory factory = Messaging.connectionFactory(broker.start(), null, null);
            long before = System.currentTimeMillis();
            send(factory, "coordinator.replies", "{}");
            send(factory, "agent.test", "{}");
            try (Connection connection = factory.createConnection()) {
                connection.start();
                Session session = connection.createSession(false, Session.AUTO_ACKNOWLEDGE);
                Message reply = session.createConsumer(session.createQueue("coordinator.replies")).receive(5_000);
                assertThat(reply.getLongProperty(dev.agentcoordinator.engine.ReplyBacklog.INGRESS_TIMESTAMP))
                        .isBetween(before, System.currentTimeMillis());
                Message request = session.createConsumer(session.createQueue("agent.test")).receive(5_000);
                assertThat(request.propertyExists(dev.agentcoordinator.engine.ReplyBacklog.INGRESS_TIMESTAMP)).isFalse();
            }
        }
    }

    /**
     * What expires on the agents' and the coordinator's queues (questions past their wait, heartbeat
     * stops) is dropped, since the coordinator's records say it expired; elsewhere it goes to ExpiryQueue,
     * as in a standalone broker.
     */
    @Test
    void dropsWhatExpiresOnTheCoordinatorsAddressesAndKeepsTheRestInTheExpiryQueue() throws Exception {
        try (EmbeddedBroker broker = new EmbeddedBroker(0, dataDir)) {
            ConnectionFactory factory = Messaging.connectionFactory(broker.start(), null, null);
            try (Connection connection = factory.createConnection()) {
                connection.start();
                Session session = connection.createSession(false, Session.AUTO_ACKNOWLEDGE);
                for (String queue : java.util.List.of("agent.test", "coordinator.test", "elsewhere.test")) {
                    MessageProducer producer = session.createProducer(session.createQueue(queue));
                    producer.send(session.createTextMessage("expired"), DeliveryMode.PERSISTENT, 4, 1);
                    producer.send(session.createTextMessage("kept"));
                    java.util.concurrent.locks.LockSupport.parkNanos(5_000_000);   // past the first one's 1 ms
                    // the expired message is ahead of the kept one: receiving the kept one expired it
                    Message kept = session.createConsumer(session.createQueue(queue)).receive(10_000);
                    assertThat(((TextMessage) kept).getText()).as(queue).isEqualTo("kept");
                }
                MessageConsumer expired = session.createConsumer(session.createQueue(EmbeddedBroker.EXPIRY_ADDRESS));
                Message first = expired.receive(10_000);
                assertThat(first).isNotNull();
                assertThat(first.getStringProperty("_AMQ_ORIG_ADDRESS")).isEqualTo("elsewhere.test");
                assertThat(expired.receive(500)).as("nothing else expired to ExpiryQueue").isNull();
            }
        }
    }

    @Test
    void waitsTheConfiguredTimeToShareAJournalSync() throws Exception {
        try (EmbeddedBroker broker = new EmbeddedBroker(0, dataDir, 150)) {
            broker.start();
            assertThat(broker.journalBufferTimeoutNanos()).isEqualTo(150_000);
        }
    }

    @Test
    void acceptsStompOnTheSamePort() throws Exception {
        try (EmbeddedBroker broker = new EmbeddedBroker(0, dataDir)) {
            String url = broker.start();
            try (Socket socket = new Socket("127.0.0.1", port(url))) {
                OutputStream out = socket.getOutputStream();
                InputStream in = socket.getInputStream();
                writeFrame(out, "CONNECT\naccept-version:1.2\nhost:127.0.0.1\n\n");
                assertThat(readFrame(in)).startsWith("CONNECTED");
                writeFrame(out, "SEND\ndestination:agent.stomp\ncontent-type:application/json\nreceipt:r1\n\n{\"via\":\"stomp\"}");
                assertThat(readFrame(in)).startsWith("RECEIPT").contains("receipt-id:r1");
                writeFrame(out, "DISCONNECT\nreceipt:r2\n\n");
                assertThat(readFrame(in)).startsWith("RECEIPT").contains("receipt-id:r2");
            }
            assertThat(receive(Messaging.connectionFactory(url, null, null), "agent.stomp")).isEqualTo("{\"via\":\"stomp\"}");
        }
    }

    private static int port(String url) {
        return URI.create(url).getPort();
    }

    /** A persistent text message on {@code queue}, as a JMS client sends it (StompOneRequestAtATimeTest too). */
    static void send(ConnectionFactory factory, String queue, String body) throws Exception {
        try (Connection connection = factory.createConnection()) {
            Session session = connection.createSession(false, Session.AUTO_ACKNOWLEDGE);
            MessageProducer producer = session.createProducer(session.createQueue(queue));
            producer.setDeliveryMode(DeliveryMode.PERSISTENT);
            producer.send(session.createTextMessage(body));
        }
    }

    private static String receive(ConnectionFactory factory, String queue) throws Exception {
        try (Connection connection = factory.createConnection()) {
            connection.start();
            Session session = connection.createSession(false, Session.AUTO_ACKNOWLEDGE);
            MessageConsumer consumer = session.createConsumer(session.createQueue(queue));
            Message message = consumer.receive(10_000);
            assertThat(message).as("message on " + queue).isInstanceOf(TextMessage.class);
            return ((TextMessage) message).getText();
        }
    }
}
