package dev.agentcoordinator.ops;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A client that sends its request's headers a byte every few hundred milliseconds (Slowloris) is never idle, but no
 * longer holds its connection for good: the server closes it once {@code coordinator.http.header-timeout-ms} passed
 * without the whole head. A connection kept alive between requests, and one upgraded to HTTP/2, are not closed by it.
 * A coordinator of its own, with a bound of 1.5 s and the default idle timeout (60 s). The methods run side by side
 * (junit-platform.properties), each on connections of its own: their seconds of trickling and pausing overlap.
 */
class HttpRequestHeadDeadlineTest {
    private static final int HEADER_TIMEOUT_MS = 1500;
    /** Longer than the bound, far shorter than the idle timeout. */
    private static final int PAUSE_MS = 2500;
    private static final int WAIT_MS = 8000;

    private static OwnHttpCoordinator own;

    @BeforeAll
    static void start() throws Exception {
        own = OwnHttpCoordinator.start("http-head-deadline", Map.of("http.header-timeout-ms", Integer.toString(HEADER_TIMEOUT_MS)));
    }

    @AfterAll
    static void stop() throws Exception {
        own.close();
    }

    @Test
    @Execution(ExecutionMode.CONCURRENT)
    void headersTrickledAByteAtATimeAreCutOff() throws Exception {
        try (Socket socket = connect()) {
            long start = System.nanoTime();
            assertThat(trickleHeadUntilClosed(socket)).as("closed within " + WAIT_MS + " ms").isTrue();
            assertThat(elapsedMs(start)).as("after the bound, not at once").isGreaterThanOrEqualTo(HEADER_TIMEOUT_MS - 100);
        }
    }

    /** A request answered on a connection kept alive does not exempt the next one's head. */
    @Test
    @Execution(ExecutionMode.CONCURRENT)
    void aLaterRequestsTrickledHeadIsCutOffToo() throws Exception {
        try (Socket socket = connect()) {
            socket.getOutputStream().write("GET /api/no-such-path HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            assertThat(readResponseHead(socket.getInputStream())).startsWith("HTTP/1.1 404");
            Thread.sleep(PAUSE_MS);   // kept alive meanwhile: the bound starts with the next request's first byte
            long start = System.nanoTime();
            assertThat(trickleHeadUntilClosed(socket)).as("closed within " + WAIT_MS + " ms").isTrue();
            assertThat(elapsedMs(start)).as("after the bound, not at once").isGreaterThanOrEqualTo(HEADER_TIMEOUT_MS - 100);
        }
    }

    /** Sends a request line, then a header line every 300 ms; whether the server closed within {@link #WAIT_MS}. */
    private static boolean trickleHeadUntilClosed(Socket socket) throws InterruptedException {
        long start = System.nanoTime();
        try {
            OutputStream out = socket.getOutputStream();
            out.write("GET /api/workflows HTTP/1.1\r\nHost: 127.0.0.1\r\n".getBytes(StandardCharsets.US_ASCII));
            while (elapsedMs(start) < WAIT_MS) {
                out.write("X-Slow: a\r\n".getBytes(StandardCharsets.US_ASCII));
                out.flush();
                Thread.sleep(300);
                if (closedByPeer(socket)) {
                    return true;
                }
            }
            return false;
        } catch (IOException writeRefused) {
            return true;   // the server closed: the write met a reset
        }
    }

    @Test
    @Execution(ExecutionMode.CONCURRENT)
    void aConnectionKeptAliveBetweenRequestsStaysOpen() throws Exception {
        try (Socket socket = connect()) {
            socket.getOutputStream().write("GET /api/workflows HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            assertThat(readResponseHead(socket.getInputStream())).startsWith("HTTP/1.1 200");
            Thread.sleep(PAUSE_MS);
            socket.getOutputStream().write("GET /api/workflows HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
                    .getBytes(StandardCharsets.US_ASCII));
            String rest = new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(rest).contains("HTTP/1.1 200");
        }
    }

    /** An h2c upgrade leaves HTTP/1.x behind: its frames are not a request head that never ends. */
    @Test
    @Execution(ExecutionMode.CONCURRENT)
    void aConnectionUpgradedToHttp2StaysOpen() throws Exception {
        try (Socket socket = connect()) {
            OutputStream out = socket.getOutputStream();
            out.write(("GET /api/workflows HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade, HTTP2-Settings\r\n"
                    + "Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            assertThat(readResponseHead(socket.getInputStream())).startsWith("HTTP/1.1 101");
            out.write("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            out.write(new byte[] {0, 0, 0, 4, 0, 0, 0, 0, 0});   // an empty SETTINGS frame
            out.flush();
            Thread.sleep(PAUSE_MS);
            byte[] payload = "still-on".getBytes(StandardCharsets.US_ASCII);
            out.write(new byte[] {0, 0, 8, 6, 0, 0, 0, 0, 0});   // PING, 8 bytes, stream 0
            out.write(payload);
            out.flush();
            assertThat(readUntil(socket.getInputStream(), payload)).as("the PING answered").isTrue();
        }
    }

    private static Socket connect() throws IOException {
        return own.connect(WAIT_MS);
    }

    private static long elapsedMs(long startNanos) {
        return (System.nanoTime() - startNanos) / 1_000_000;
    }

    /** Whether the peer closed the connection (a read ends at once), or it is still open (the read times out). */
    private static boolean closedByPeer(Socket socket) throws IOException {
        int timeout = socket.getSoTimeout();
        socket.setSoTimeout(1);
        try {
            return socket.getInputStream().read() == -1;
        } catch (SocketTimeoutException open) {
            return false;
        } catch (IOException reset) {
            return true;
        } finally {
            socket.setSoTimeout(timeout);
        }
    }

    /** A response's status line and headers, then as many body bytes as its Content-Length says (consumed). */
    private static String readResponseHead(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        while (!head.toString(StandardCharsets.US_ASCII).endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("closed before the response's head ended: " + head);
            }
            head.write(b);
        }
        String text = head.toString(StandardCharsets.US_ASCII);
        java.util.regex.Matcher length = java.util.regex.Pattern.compile("(?i)content-length: *(\\d+)").matcher(text);
        if (length.find()) {
            in.readNBytes(Integer.parseInt(length.group(1)));
        }
        return text;
    }

    /** Whether {@code wanted} arrives before the connection closes or the read times out. */
    private static boolean readUntil(InputStream in, byte[] wanted) throws IOException {
        ByteArrayOutputStream read = new ByteArrayOutputStream();
        byte[] buffer = new byte[4096];
        while (true) {
            int n;
            try {
                n = in.read(buffer);
            } catch (SocketTimeoutException | java.net.SocketException closedOrSilent) {
                return false;
            }
            if (n < 0) {
                return false;
            }
            read.write(buffer, 0, n);
            if (indexOf(read.toByteArray(), wanted) >= 0) {
                return true;
            }
        }
    }

    private static int indexOf(byte[] bytes, byte[] wanted) {
        outer:
        for (int i = 0; i + wanted.length <= bytes.length; i++) {
            for (int j = 0; j < wanted.length; j++) {
                if (bytes[i + j] != wanted[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
