package dev.agentcoordinator.ops;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A client that opens a connection and sends half a request, or nothing, no longer holds it for good: the server
 * closes it after {@code coordinator.http.idle-timeout-ms} (Slowloris' connections). A coordinator of its own, with
 * a timeout of 1 s.
 */
class HttpIdleTimeoutTest {
    private static final int IDLE_TIMEOUT_MS = 1000;
    /** How long the test waits for the server to close: well past the timeout, well short of "never". */
    private static final int WAIT_MS = 8000;

    private static OwnHttpCoordinator own;

    @BeforeAll
    static void start() throws Exception {
        own = OwnHttpCoordinator.start("http-idle-timeout", Map.of("http.idle-timeout-ms", Integer.toString(IDLE_TIMEOUT_MS)));
    }

    @AfterAll
    static void stop() throws Exception {
        own.close();
    }

    @Test
    void aConnectionStoppedHalfwayThroughItsHeadersIsClosed() throws Exception {
        try (Socket socket = connect()) {
            socket.getOutputStream().write("GET /api/workflows HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: a"
                    .getBytes(StandardCharsets.US_ASCII));
            assertClosedByTheServerWithinTheTimeout(socket);
        }
    }

    @Test
    void aConnectionThatSendsNothingIsClosed() throws Exception {
        try (Socket socket = connect()) {
            assertClosedByTheServerWithinTheTimeout(socket);
        }
    }

    @Test
    void aWholeRequestIsStillAnswered() throws Exception {
        try (Socket socket = connect()) {
            socket.getOutputStream().write("GET /api/workflows HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
                    .getBytes(StandardCharsets.US_ASCII));
            assertThat(new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8)).startsWith("HTTP/1.1 200");
        }
    }

    private static Socket connect() throws IOException {
        return own.connect(WAIT_MS);
    }

    private static void assertClosedByTheServerWithinTheTimeout(Socket socket) throws IOException {
        long start = System.nanoTime();
        InputStream in = socket.getInputStream();
        int read;
        try {
            read = in.read();
        } catch (SocketTimeoutException stillOpen) {
            throw new AssertionError("the server kept the connection open for " + WAIT_MS + " ms (idle timeout "
                    + IDLE_TIMEOUT_MS + " ms)", stillOpen);
        } catch (IOException reset) {
            read = -1;   // closed with a reset: closed all the same
        }
        long elapsedMs = (System.nanoTime() - start) / 1_000_000;
        assertThat(read).as("what the server sent before closing").isEqualTo(-1);
        assertThat(elapsedMs).as("closed after the idle timeout, not at once").isGreaterThanOrEqualTo(IDLE_TIMEOUT_MS - 100);
    }
}
