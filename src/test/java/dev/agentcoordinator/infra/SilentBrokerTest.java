package dev.agentcoordinator.infra;

import jakarta.jms.Connection;
import jakarta.jms.QueueBrowser;
import jakarta.jms.Session;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Enumeration;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

/**
 * A broker that goes silent in the middle of a browse, without closing its connections (a network partition: no
 * reset, no answer), is given up on within a few of the bounded factory's timeouts, although no call times out there
 * (a browser reading what its consumer was sent), so that an HTTP answer that reads the broker (GET /api/dead-letters,
 * the health check) does not wait for the 30 to 60 s the client's failure check takes by default.
 */
class SilentBrokerTest {
    @TempDir
    Path dataDir;

    @Test
    void aBrowseOnABrokerThatFellSilentEndsWithinTheBoundedTimeout() throws Exception {
        try (EmbeddedBroker broker = new EmbeddedBroker(FreePort.on(EmbeddedBroker.HOST), dataDir);
             BrokerProxy proxy = new BrokerProxy(java.net.URI.create(broker.start()).getPort())) {
            Connection connection = Messaging.boundedConnectionFactory("tcp://127.0.0.1:" + proxy.port(), null, null, 1000)
                    .createConnection();
            try {
                connection.start();
                Session session = connection.createSession(false, Session.AUTO_ACKNOWLEDGE);
                QueueBrowser browser = session.createBrowser(session.createQueue("silent.test"));
                try (jakarta.jms.MessageProducer producer = session.createProducer(session.createQueue("silent.test"))) {
                    for (int i = 0; i < 3; i++) {
                        producer.send(session.createTextMessage("dead letter " + i));
                    }
                }
                Enumeration<?> messages = browser.getEnumeration();   // a browse under way: one read, then the broker falls silent
                assertThat(messages.hasMoreElements()).isTrue();
                messages.nextElement();

                proxy.freeze();
                long started = System.nanoTime();
                assertTimeoutPreemptively(Duration.ofSeconds(15), () -> {
                    try {
                        while (messages.hasMoreElements()) {   // those already delivered, then a read of the silent broker
                            messages.nextElement();
                        }
                    } catch (RuntimeException givenUp) {
                        // the connection failed: what a reader answers 503 on
                    }
                });
                // given up within two to four timeouts (Messaging.boundedUrl); twice that for a busy machine
                assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(8));
            } finally {
                proxy.close();   // the client's close would otherwise wait on the silent broker
                connection.close();
            }
        }
    }
}
