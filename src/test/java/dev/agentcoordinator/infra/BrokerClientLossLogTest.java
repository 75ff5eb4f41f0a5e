package dev.agentcoordinator.infra;

import dev.agentcoordinator.engine.CapturedLog;
import org.apache.logging.log4j.Level;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static dev.agentcoordinator.infra.StompFrames.readFrame;
import static dev.agentcoordinator.infra.StompFrames.writeFrame;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * What the embedded broker writes into the coordinator's log when agents come and go: an agent's connection lost is
 * normal operation, one INFO line each (before: AMQ332069, AMQ222067, AMQ222061 and AMQ222107 WARNs, about 30 for an
 * agent process of 8 connections); an ERROR frame the broker sends an agent for what it did wrong is still a WARN.
 */
class BrokerClientLossLogTest {
    @TempDir
    Path dataDir;

    @Test
    void anAgentProcessDyingWithEightConnectionsLogsOneInfoLineEachAndNoWarning() throws Exception {
        try (EmbeddedBroker broker = new EmbeddedBroker(0, dataDir);
             CapturedLog log = CapturedLog.ofRoot()) {
            int port = URI.create(broker.start()).getPort();
            List<Socket> agent = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                agent.add(subscribed(port, "agent.lost-" + i));
            }
            for (Socket connection : agent) {
                connection.setSoLinger(true, 0);   // as the kernel closes a killed process's sockets with data unread: a reset
                connection.close();
            }
            await().atMost(Duration.ofSeconds(20)).untilAsserted(() ->
                    assertThat(lostLines(log)).as("log: %s", log.lines()).hasSize(8));
            Thread.sleep(500);   // what else the broker logs for them has come by now
            assertThat(log.atLeast(Level.WARN)).as("WARN and ERROR lines").isEmpty();
            assertThat(lostLines(log)).allSatisfy(line -> assertThat(line).matches(
                    "INFO Broker client lost: STOMP connection from 127\\.0\\.0\\.1:\\d+ \\(.+\\); what it had not acknowledged is redelivered"));
        }
    }

    @org.junit.jupiter.api.RepeatedTest(3)   // a race: 1 stop of 14 here logged AMQ222247 before (3 keep the suite short)
    void stoppingWithAgentsConnectedLogsNoWarningNorALostLine() throws Exception {
        try (CapturedLog log = CapturedLog.ofRoot()) {
            List<Socket> agent = new ArrayList<>();
            try (EmbeddedBroker broker = new EmbeddedBroker(0, dataDir)) {
                int port = URI.create(broker.start()).getPort();
                for (int i = 0; i < 8; i++) {
                    agent.add(subscribed(port, "agent.stop-" + i));
                }
            } finally {
                for (Socket connection : agent) {
                    connection.close();
                }
            }
            assertThat(log.atLeast(Level.WARN)).as("WARN and ERROR lines").isEmpty();
            assertThat(lostLines(log)).isEmpty();
        }
    }

    @Test
    void anErrorFrameForWhatAnAgentSentWrongIsStillAWarning() throws Exception {
        try (EmbeddedBroker broker = new EmbeddedBroker(0, dataDir);
             CapturedLog log = CapturedLog.ofRoot()) {
            int port = URI.create(broker.start()).getPort();
            try (Socket socket = subscribed(port, "agent.wrong")) {
                writeFrame(socket.getOutputStream(), "SUBSCRIBE\nid:1\ndestination:agent.wrong\nack:client-individual\n\n");   // id 1 again
                assertThat(readFrame(socket.getInputStream())).startsWith("ERROR");
            }
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                    assertThat(log.atLeast(Level.WARN)).anySatisfy(line -> assertThat(line).startsWith("WARN AMQ332069: Sent ERROR frame to STOMP client")));
        }
    }

    @Test
    void theLogConfigurationLeavesOutTheConnectionLossLinesOnly() {
        org.slf4j.Logger server = org.slf4j.LoggerFactory.getLogger("org.apache.activemq.artemis.core.server");
        org.slf4j.Logger stomp = org.slf4j.LoggerFactory.getLogger("org.apache.activemq.artemis.core.protocol.stomp");
        try (CapturedLog log = CapturedLog.ofRoot()) {
            server.warn("AMQ222067: Connection failure has been detected:  [code=REMOTE_DISCONNECT]");
            server.warn("AMQ222061: Client connection failed, clearing up resources for session 7e58ccef");
            server.warn("AMQ222107: Cleared up resources for session 7e58ccef");
            server.warn("AMQ222069: error cleaning up stomp connection", new RuntimeException("AMQ229257: IDGenerator has been stopped"));
            stomp.warn("AMQ332069: Sent ERROR frame to STOMP client 127.0.0.1:53266: ");
            stomp.warn("AMQ332069: Sent ERROR frame to STOMP client 127.0.0.1:53266: recvAddress(..) failed with error(-104): Connection reset by peer");
            stomp.warn("AMQ332069: Sent ERROR frame to STOMP client 127.0.0.1:57380: AMQ229014: Did not receive data from 127.0.0.1:57380 within the 60000ms connection TTL. The connection will now be closed.");
            // what an operator must see stays
            server.warn("AMQ222212: Disk Full! Blocking message production on address 'agent.x'. Clients will report blocked.");
            server.error("AMQ224016: Caught exception", new java.io.IOException("journal"));
            server.warn("AMQ222147: Message has expired. No expiry queue configured for queue agent.x so dropping it");
            stomp.warn("AMQ332069: Sent ERROR frame to STOMP client 127.0.0.1:1: There already is a subscription for: 1.");
            assertThat(log.atLeast(Level.WARN)).containsExactly(
                    "WARN AMQ222212: Disk Full! Blocking message production on address 'agent.x'. Clients will report blocked.",
                    "ERROR AMQ224016: Caught exception java.io.IOException: journal",
                    "WARN AMQ332069: Sent ERROR frame to STOMP client 127.0.0.1:1: There already is a subscription for: 1.");
        }
    }

    private static List<String> lostLines(CapturedLog log) {
        return log.lines().stream().filter(line -> line.contains("Broker client lost")).toList();
    }

    private static Socket subscribed(int port, String queue) throws Exception {
        Socket socket = new Socket("127.0.0.1", port);
        socket.setSoTimeout(10_000);
        OutputStream out = socket.getOutputStream();
        InputStream in = socket.getInputStream();
        writeFrame(out, "CONNECT\naccept-version:1.2\nhost:127.0.0.1\n\n");
        assertThat(readFrame(in)).startsWith("CONNECTED");
        writeFrame(out, "SUBSCRIBE\nid:1\ndestination:" + queue + "\nack:client-individual\nsubscription-type:ANYCAST\n"
                + "consumer-window-size:0\nreceipt:r1\n\n");
        assertThat(readFrame(in)).startsWith("RECEIPT");
        return socket;
    }
}
