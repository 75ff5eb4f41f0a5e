package dev.agentcoordinator.infra;

import dev.agentcoordinator.TestFolders;
import jakarta.jms.Connection;
import jakarta.jms.MessageConsumer;
import jakarta.jms.Session;
import jakarta.jms.TextMessage;
import org.apache.activemq.artemis.jms.client.ActiveMQConnectionFactory;
import org.apache.qpid.proton.Proton;
import org.apache.qpid.proton.amqp.Symbol;
import org.apache.qpid.proton.amqp.messaging.Accepted;
import org.apache.qpid.proton.amqp.messaging.AmqpValue;
import org.apache.qpid.proton.amqp.messaging.Modified;
import org.apache.qpid.proton.amqp.messaging.Rejected;
import org.apache.qpid.proton.amqp.messaging.Released;
import org.apache.qpid.proton.amqp.messaging.Source;
import org.apache.qpid.proton.amqp.messaging.Target;
import org.apache.qpid.proton.amqp.transport.DeliveryState;
import org.apache.qpid.proton.engine.Collector;
import org.apache.qpid.proton.engine.Delivery;
import org.apache.qpid.proton.engine.Event;
import org.apache.qpid.proton.engine.Receiver;
import org.apache.qpid.proton.engine.Transport;
import org.apache.qpid.proton.message.Message;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Collections;
import java.util.Deque;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What an AMQP 1.0 agent's settlement of a step request does on the coordinator's embedded broker, as
 * docs/agent-protocol.md ("Connecting") tells agent authors: {@code released} and {@code modified} give the request
 * back, delivered again to the same receiver while it has credit; {@code rejected} moves it to the dead-letter address
 * {@code DLA} at once, not delivered again; {@code accepted} consumes it. The client is proton-j's engine over a socket
 * (the library the broker's AMQP protocol runs on), as an agent in another language speaks it.
 */
class AmqpAgentDispositionsTest {

    private static final String REQUEST = "{\"action\": \"analyze\", \"input\": {}}";

    private Path dataDir;
    private EmbeddedBroker broker;
    private ActiveMQConnectionFactory jms;
    private URI amqp;
    private String queue;

    @BeforeEach
    void startBroker() throws Exception {
        dataDir = TestFolders.create("amqp-dispositions");
        broker = new EmbeddedBroker(0, dataDir);
        String url = broker.start();
        jms = new ActiveMQConnectionFactory(url);
        amqp = URI.create(url);
        queue = "agent.amqp-" + UUID.randomUUID().toString().substring(0, 8);
    }

    @AfterEach
    void stopBroker() throws Exception {
        try {
            jms.close();
            broker.close();
        } finally {
            TestFolders.delete(dataDir);
        }
    }

    @Test
    void aReleasedRequestIsDeliveredAgainToTheSameReceiver() throws Exception {
        settledThenDeliveredAgain(Released.getInstance());
    }

    @Test
    void aModifiedRequestIsDeliveredAgainCountedAsAFailedDelivery() throws Exception {
        Modified failed = new Modified();
        failed.setDeliveryFailed(true);
        assertThat(settledThenDeliveredAgain(failed).getDeliveryCount()).isEqualTo(1);
    }

    @Test
    void aRejectedRequestGoesToTheDeadLetterAddressAtOnceNotDeliveredAgain() throws Exception {
        sendRequest();
        try (AmqpReceiver agent = AmqpReceiver.open(amqp, queue)) {
            agent.settle(agent.receive(), new Rejected());

            try (Connection connection = jms.createConnection()) {
                connection.start();
                Session session = connection.createSession(false, Session.AUTO_ACKNOWLEDGE);
                MessageConsumer deadLetters = session.createConsumer(session.createQueue(EmbeddedBroker.DEAD_LETTER_ADDRESS));
                TextMessage deadLetter = (TextMessage) deadLetters.receive(10_000);
                assertThat(deadLetter).as("the request on " + EmbeddedBroker.DEAD_LETTER_ADDRESS + " within 10 s").isNotNull();
                assertThat(deadLetter.getText()).isEqualTo(REQUEST);
                assertThat(deadLetter.getStringProperty("_AMQ_ORIG_ADDRESS")).isEqualTo(queue);
            }
            // the receiver still has credit: the queue is empty, so nothing can come to it again
            assertThat(messagesOn(queue)).isZero();
        }
    }

    /** The request settled with {@code outcome}, then taken again by the same receiver and accepted: as it came again. */
    private Message settledThenDeliveredAgain(DeliveryState outcome) throws Exception {
        sendRequest();
        Message again;
        try (AmqpReceiver agent = AmqpReceiver.open(amqp, queue)) {
            Delivery first = agent.receive();
            assertThat(agent.body(first)).isEqualTo(REQUEST);
            assertThat(agent.message(first).getDeliveryCount()).isZero();
            agent.settle(first, outcome);

            Delivery second = agent.receive();
            assertThat(agent.body(second)).isEqualTo(REQUEST);
            again = agent.message(second);
            agent.settle(second, Accepted.getInstance());
        }
        assertThat(messagesOn(queue)).isZero();
        return again;
    }

    private void sendRequest() throws Exception {
        try (Connection connection = jms.createConnection()) {
            Session session = connection.createSession(false, Session.AUTO_ACKNOWLEDGE);
            TextMessage request = session.createTextMessage(REQUEST);
            request.setJMSCorrelationID("row-1:1");
            session.createProducer(session.createQueue(queue)).send(request);
        }
    }

    private int messagesOn(String name) throws Exception {
        try (Connection connection = jms.createConnection()) {
            connection.start();
            Session session = connection.createSession(false, Session.AUTO_ACKNOWLEDGE);
            return Collections.list(session.createBrowser(session.createQueue(name)).getEnumeration()).size();
        }
    }

    /** A one-credit AMQP receiver on an anycast queue (source capability {@code queue}), its frames pumped on the caller's thread. */
    private static final class AmqpReceiver implements AutoCloseable {

        private static final long WAIT_NANOS = TimeUnit.SECONDS.toNanos(10);

        private final Socket socket;
        private final InputStream in;
        private final OutputStream out;
        private final Transport transport = Proton.transport();
        private final Collector collector = Proton.collector();
        private final org.apache.qpid.proton.engine.Connection connection = Proton.connection();
        private final Receiver receiver;
        private final Deque<Delivery> arrived = new ArrayDeque<>();

        private AmqpReceiver(URI broker, String address) throws IOException {
            socket = new Socket(broker.getHost(), broker.getPort());
            socket.setSoTimeout(100);   // a read gives way now and then, so a wait checks its own deadline
            in = socket.getInputStream();
            out = socket.getOutputStream();
            transport.sasl().client();
            transport.sasl().setMechanisms("ANONYMOUS");
            transport.bind(connection);
            connection.collect(collector);
            connection.setContainer("amqp-dispositions-test");
            connection.setHostname(broker.getHost());
            connection.open();
            org.apache.qpid.proton.engine.Session session = connection.session();
            session.open();
            receiver = session.receiver("requests");
            Source source = new Source();
            source.setAddress(address);
            source.setCapabilities(Symbol.valueOf("queue"));
            receiver.setSource(source);
            receiver.setTarget(new Target());
            receiver.open();
            receiver.flow(1);
        }

        static AmqpReceiver open(URI broker, String address) throws IOException {
            return new AmqpReceiver(broker, address);
        }

        /** The next whole delivery, within 10 s. */
        Delivery receive() throws IOException {
            long deadline = System.nanoTime() + WAIT_NANOS;
            while (arrived.isEmpty()) {
                assertThat(System.nanoTime() < deadline).as("a delivery within 10 s").isTrue();
                pump();
            }
            return arrived.poll();
        }

        Message message(Delivery delivery) {
            return (Message) delivery.getContext();
        }

        String body(Delivery delivery) {
            return (String) ((AmqpValue) message(delivery).getBody()).getValue();
        }

        /** Settles the delivery with {@code outcome}, gives the receiver its credit back, and sends both. */
        void settle(Delivery delivery, DeliveryState outcome) throws IOException {
            delivery.disposition(outcome);
            delivery.settle();
            receiver.flow(1);
            pump();
        }

        /** Writes what the engine has to send, reads what came (up to the socket's timeout), and takes the whole deliveries. */
        private void pump() throws IOException {
            writePending();
            int capacity = transport.capacity();
            if (capacity > 0) {
                byte[] buffer = new byte[Math.min(capacity, 64 * 1024)];
                try {
                    int read = in.read(buffer);
                    if (read < 0) {
                        transport.close_tail();
                    } else {
                        transport.tail().put(buffer, 0, read);
                        transport.process();
                    }
                } catch (SocketTimeoutException nothingYet) {
                    // nothing came within the timeout: the caller checks its deadline
                }
            }
            for (Event event = collector.peek(); event != null; event = collector.peek()) {
                if (event.getType() == Event.Type.DELIVERY && event.getDelivery().getLink() == receiver) {
                    take(event.getDelivery());
                }
                collector.pop();
            }
        }

        private void writePending() throws IOException {
            while (transport.pending() > 0) {
                ByteBuffer head = transport.head();
                byte[] bytes = new byte[head.remaining()];
                head.get(bytes);
                out.write(bytes);
                transport.pop(bytes.length);
            }
            out.flush();
        }

        private void take(Delivery delivery) {
            if (delivery.isReadable() && !delivery.isPartial() && delivery.getContext() == null) {
                byte[] bytes = new byte[delivery.pending()];
                int read = receiver.recv(bytes, 0, bytes.length);
                receiver.advance();
                Message message = Proton.message();
                message.decode(bytes, 0, read);
                delivery.setContext(message);
                arrived.add(delivery);
            }
        }

        @Override
        public void close() throws IOException {
            try {
                receiver.close();
                connection.close();
                writePending();
            } finally {
                socket.close();
            }
        }
    }
}
