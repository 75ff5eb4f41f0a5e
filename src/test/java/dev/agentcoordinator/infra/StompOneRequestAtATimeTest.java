package dev.agentcoordinator.infra;

import jakarta.jms.ConnectionFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static dev.agentcoordinator.infra.StompFrames.readFrame;
import static dev.agentcoordinator.infra.StompFrames.writeFrame;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * What docs/agent-protocol.md tells STOMP agents, checked on the broker: a subscription with
 * {@code ack: client-individual} and {@code consumer-window-size: 0} gets the next request only once it
 * acknowledged the one before, so requests it has not started wait on the queue for idle consumers.
 */
class StompOneRequestAtATimeTest {
    private static final Pattern ACK_ID = Pattern.compile("(?m)^ack:(.+)$");

    @TempDir
    Path dataDir;

    @Test
    void aClientIndividualSubscriptionWithWindowZeroHoldsOneUnacknowledgedRequest() throws Exception {
        try (EmbeddedBroker broker = new EmbeddedBroker(0, dataDir)) {
            String url = broker.start();
            ConnectionFactory factory = Messaging.connectionFactory(url, null, null);
            for (int i = 1; i <= 3; i++) {
                EmbeddedBrokerTest.send(factory, "agent.one-at-a-time", "{\"request\":" + i + "}");
            }
            try (Socket socket = new Socket("127.0.0.1", URI.create(url).getPort())) {
                OutputStream out = socket.getOutputStream();
                InputStream in = socket.getInputStream();
                writeFrame(out, "CONNECT\naccept-version:1.2\nhost:127.0.0.1\n\n");
                assertThat(readFrame(in)).startsWith("CONNECTED");
                writeFrame(out, "SUBSCRIBE\nid:1\ndestination:agent.one-at-a-time\nack:client-individual\n"
                        + "subscription-type:ANYCAST\nconsumer-window-size:0\n\n");
                String first = readFrame(in);
                assertThat(first).startsWith("MESSAGE").contains("{\"request\":1}");

                socket.setSoTimeout(1000);
                assertThatThrownBy(() -> readFrame(in)).isInstanceOf(SocketTimeoutException.class);
                socket.setSoTimeout(10_000);   // the next request may take the broker a while on a busy machine

                writeFrame(out, "ACK\nid:" + ackId(first) + "\n\n");
                assertThat(readFrame(in)).startsWith("MESSAGE").contains("{\"request\":2}");
            }
        }
    }

    private static String ackId(String frame) {
        Matcher matcher = ACK_ID.matcher(frame);
        assertThat(matcher.find()).as("ack header in " + frame).isTrue();
        return matcher.group(1).trim();
    }
}
