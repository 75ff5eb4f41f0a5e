package dev.agentcoordinator.infra;

import dev.agentcoordinator.engine.CapturedLog;
import jakarta.jms.Connection;
import jakarta.jms.ConnectionFactory;
import jakarta.jms.MessageProducer;
import jakarta.jms.Session;
import jakarta.jms.TextMessage;
import org.apache.logging.log4j.Level;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;

import static dev.agentcoordinator.infra.StompFrames.readFrame;
import static dev.agentcoordinator.infra.StompFrames.writeFrame;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * docs/agent-protocol.md "Headers": a STOMP agent reads a request's {@code reply-to} and {@code correlation-id} escaped
 * ({@code :} as {@code \c}). One that sends its reply to the header as read reaches the reply queue: the broker
 * unescapes it into {@code queue://coordinator.replies} and its acceptor takes {@code queue://} as the prefix of an
 * anycast queue (before, such a reply went to an address of that name that nothing reads, and its step timed out).
 * An address still named otherwise than any queue (the colon dropped: {@code queue//…}) is a WARN naming it.
 */
class StompReplyToEscapingTest {
    @TempDir
    Path dataDir;

    @Test
    void aReplySentToTheReplyToHeaderAsReadReachesTheReplyQueue() throws Exception {
        try (EmbeddedBroker broker = new EmbeddedBroker(0, dataDir);
             CapturedLog log = CapturedLog.ofRoot()) {
            String url = broker.start();
            ConnectionFactory factory = Messaging.connectionFactory(url, null, null);
            try (Connection connection = factory.createConnection()) {
                Session session = connection.createSession(false, Session.AUTO_ACKNOWLEDGE);
                MessageProducer producer = session.createProducer(session.createQueue("agent.escaping"));
                TextMessage request = session.createTextMessage("{\"step_id\":\"s\"}");
                request.setJMSCorrelationID("e-1:1@wf~v1/s/1");
                request.setJMSReplyTo(session.createQueue("coordinator.replies"));
                producer.send(request);
            }
            try (Socket socket = new Socket("127.0.0.1", URI.create(url).getPort())) {
                socket.setSoTimeout(10_000);
                OutputStream out = socket.getOutputStream();
                InputStream in = socket.getInputStream();
                writeFrame(out, "CONNECT\naccept-version:1.2\nhost:127.0.0.1\n\n");
                assertThat(readFrame(in)).startsWith("CONNECTED");
                writeFrame(out, "SUBSCRIBE\nid:1\ndestination:agent.escaping\nack:auto\nsubscription-type:ANYCAST\n\n");
                String message = readFrame(in);
                // as the doc says: both headers arrive with their colons escaped
                assertThat(message).contains("\nreply-to:queue\\c//coordinator.replies\n")
                        .contains("\ncorrelation-id:e-1\\c1@wf~v1/s/1\n");

                // an agent that copies reply-to as read (and strips no prefix: there is none to strip as read)
                writeFrame(out, "SEND\ndestination:queue\\c//coordinator.replies\ncorrelation-id:e-1\\c1@wf~v1/s/1\n"
                        + "destination-type:ANYCAST\nreceipt:r1\n\n{\"status\":\"ok\"}");
                assertThat(readFrame(in)).startsWith("RECEIPT");
                // one whose colon got lost on the way
                writeFrame(out, "SEND\ndestination:queue//coordinator.replies\ncorrelation-id:e-1\\c1@wf~v1/s/1\n"
                        + "destination-type:ANYCAST\nreceipt:r2\n\n{\"status\":\"ok\"}");
                assertThat(readFrame(in)).startsWith("RECEIPT");
            }
            try (Connection connection = factory.createConnection()) {
                connection.start();
                Session session = connection.createSession(false, Session.AUTO_ACKNOWLEDGE);
                jakarta.jms.Message reply = session.createConsumer(session.createQueue("coordinator.replies")).receive(10_000);
                assertThat(reply).as("the reply, on the reply queue").isNotNull();
                assertThat(reply.getJMSCorrelationID()).isEqualTo("e-1:1@wf~v1/s/1");
            }
            assertThat(log.atLeast(Level.WARN)).noneSatisfy(line -> assertThat(line).contains("queue://coordinator.replies"));
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(log.atLeast(Level.WARN))
                    .as("log: %s", log.lines())
                    .anySatisfy(line -> assertThat(line).startsWith("WARN Broker address \"queue//coordinator.replies\" created")
                            .contains("reply-to").contains("docs/agent-protocol.md")));
        }
        // the reply waits there for good: a start on this journal names the address again
        try (EmbeddedBroker broker = new EmbeddedBroker(0, dataDir);
             CapturedLog log = CapturedLog.ofRoot()) {
            broker.start();
            assertThat(log.atLeast(Level.WARN)).anySatisfy(line ->
                    assertThat(line).startsWith("WARN Broker address \"queue//coordinator.replies\" exists"));
        }
    }
}
