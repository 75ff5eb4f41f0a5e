package dev.agentcoordinator.engine;

import dev.agentcoordinator.infra.StompFrames;
import jakarta.jms.Connection;
import jakarta.jms.QueueBrowser;
import jakarta.jms.Session;
import jakarta.jms.TextMessage;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

import static dev.agentcoordinator.engine.TestCoordinator.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * What a STOMP agent's NACK and its disconnect with a request unacknowledged do on Artemis 2.44, as docs/agent-protocol.md
 * tells them (a real STOMP 1.2 client over a socket, against the coordinator's embedded broker): Artemis takes a NACK as
 * an ACK, so the request is consumed, neither delivered again nor dead-lettered, and its step waits for its timeout; a
 * request held unacknowledged by a client that goes away goes to the next subscriber, marked redelivered.
 */
class StompRequestGivenBackTest {

    @Test
    void aNackedRequestIsConsumedAndItsStepTimesOutThenRetries() throws Exception {
        try (CapturedLog log = CapturedLog.of(dev.agentcoordinator.infra.EmbeddedBroker.class.getName());
             StompAgent agent = StompAgent.subscribe("agent.f-stomp-nack-agent")) {
            String eventId = sendEvent("F_STOMP_NACK", "{}");
            Map<String, String> first = agent.receive();
            assertThat(first.get("body")).contains("\"attempt\":1");
            agent.send("NACK\nid:" + first.get("ack") + "\n\n");

            // the next frame is the retry's request, after attempt 1 timed out: attempt 1's is not delivered again
            Map<String, String> second = agent.receive();
            assertThat(second.get("body")).contains("\"attempt\":2");
            assertThat(second.get("redelivered")).isEqualTo("false");
            agent.reply(second, "{\"status\": \"ok\", \"output\": {\"done\": true}}");

            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100))
                    .until(() -> "completed".equals(executionStatus(executionOf(eventId))));
            String executionId = executionOf(eventId);
            assertThat(stepRow(executionId, "only").get("attempt")).isEqualTo(2);
            assertThat(query("SELECT attempt, error FROM step_attempts WHERE execution_id = ? ORDER BY attempt", executionId))
                    .extracting(row -> row.get("error"))
                    .containsExactly("attempt 1 timed out after 1500 ms", null);
            assertThat(deadLettersAbout(executionId)).as("dead-lettered requests").isZero();
            // the broker says why the step waited for its timeout
            assertThat(log.lines()).anyMatch(line -> line.contains("NACKed a message of agent.f-stomp-nack-agent: Artemis takes a NACK"
                    + " as an ACK, so it is consumed, not delivered again nor dead-lettered"));
        }
    }

    @Test
    void aRequestHeldUnacknowledgedByAnAgentThatDisconnectsGoesToTheNextMarkedRedelivered() throws Exception {
        String eventId;
        Map<String, String> held;
        try (StompAgent gone = StompAgent.subscribe("agent.f-stomp-unacked-agent")) {
            eventId = sendEvent("F_STOMP_UNACKED", "{}");
            held = gone.receive();
            assertThat(held.get("redelivered")).isEqualTo("false");
        }
        try (StompAgent next = StompAgent.subscribe("agent.f-stomp-unacked-agent")) {
            Map<String, String> again = next.receive();
            assertThat(again.get("body")).isEqualTo(held.get("body"));
            assertThat(again.get("redelivered")).isEqualTo("true");
            next.reply(again, "{\"status\": \"ok\", \"output\": {\"done\": true}}");
        }
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100))
                .until(() -> "completed".equals(executionStatus(executionOf(eventId))));
        assertThat(stepRow(executionOf(eventId), "only").get("attempt")).isEqualTo(1);
    }

    /** Messages on the broker's dead-letter address that name the execution. */
    private static int deadLettersAbout(String executionId) throws Exception {
        try (Connection connection = shared().connectionFactory().createConnection()) {
            connection.start();
            Session session = connection.createSession(false, Session.AUTO_ACKNOWLEDGE);
            try (QueueBrowser browser = session.createBrowser(session.createQueue(dev.agentcoordinator.infra.EmbeddedBroker.DEAD_LETTER_ADDRESS))) {
                int found = 0;
                for (Object message : Collections.list(browser.getEnumeration())) {
                    if (message instanceof TextMessage text && text.getText() != null && text.getText().contains(executionId)) {
                        found++;
                    }
                }
                return found;
            }
        }
    }

    /** A STOMP 1.2 agent as docs/agent-protocol.md describes it: ack client-individual, one request at a time. */
    private static final class StompAgent implements AutoCloseable {
        private final Socket socket;
        private final OutputStream out;
        private final InputStream in;

        private StompAgent(Socket socket) throws IOException {
            this.socket = socket;
            this.out = socket.getOutputStream();
            this.in = socket.getInputStream();
            socket.setSoTimeout(20_000);   // a frame expected: the retry's request comes once attempt 1 timed out
        }

        static StompAgent subscribe(String queue) throws IOException {
            StompAgent agent = new StompAgent(new Socket("127.0.0.1", URI.create(shared().brokerUrl().replaceFirst("\\?.*", "")).getPort()));
            agent.send("CONNECT\naccept-version:1.2\nhost:127.0.0.1\n\n");
            assertThat(agent.readFrame()).startsWith("CONNECTED");
            agent.send("SUBSCRIBE\nid:1\ndestination:" + queue + "\nack:client-individual\nsubscription-type:ANYCAST\n"
                    + "consumer-window-size:0\n\n");
            return agent;
        }

        /** The next MESSAGE frame's headers, unescaped, and its body under "body". */
        Map<String, String> receive() throws IOException {
            String frame = readFrame();
            assertThat(frame).startsWith("MESSAGE\n");
            int blank = frame.indexOf("\n\n");
            Map<String, String> headers = new LinkedHashMap<>();
            for (String line : frame.substring("MESSAGE\n".length(), blank).split("\n")) {
                int colon = line.indexOf(':');
                headers.putIfAbsent(unescape(line.substring(0, colon)), unescape(line.substring(colon + 1)));
            }
            headers.put("body", frame.substring(blank + 2));
            return headers;
        }

        /** The reply to a request, then its ACK, as an agent should send them. */
        void reply(Map<String, String> request, String body) throws IOException {
            send("SEND\ndestination:" + escape(request.get("reply-to").replaceFirst("^queue://", "")) + "\ncorrelation-id:"
                    + escape(request.get("correlation-id")) + "\npersistent:true\ndestination-type:ANYCAST\n\n" + body);
            send("ACK\nid:" + escape(request.get("ack")) + "\n\n");
        }

        void send(String frame) throws IOException {
            StompFrames.writeFrame(out, frame);
        }

        private String readFrame() throws IOException {
            return StompFrames.readFrame(in);
        }

        private static String unescape(String value) {
            StringBuilder text = new StringBuilder();
            for (int i = 0; i < value.length(); i++) {
                char c = value.charAt(i);
                if (c == '\\' && i + 1 < value.length()) {
                    char next = value.charAt(++i);
                    text.append(switch (next) {
                        case 'c' -> ':';
                        case 'n' -> '\n';
                        case 'r' -> '\r';
                        default -> next;
                    });
                } else {
                    text.append(c);
                }
            }
            return text.toString();
        }

        private static String escape(String value) {
            return value.replace("\\", "\\\\").replace(":", "\\c").replace("\n", "\\n").replace("\r", "\\r");
        }

        @Override
        public void close() throws IOException {
            socket.close();   // no DISCONNECT: what a crashed agent does
        }
    }
}
