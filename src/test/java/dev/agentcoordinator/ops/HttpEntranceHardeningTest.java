package dev.agentcoordinator.ops;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/** Two ways past the HTTP guards: a CORS preflight without credentials, a request with both a length and chunks. */
class HttpEntranceHardeningTest {

    /**
     * Vert.x's BasicAuthHandler lets an OPTIONS through without credentials when its Access-Control-Request-Headers
     * names Authorization (a CORS preflight): an outsider then learned every path and its methods (405 with Allow).
     */
    @Test
    void aPreflightNeedsCredentialsAsAnyRequest() {
        for (String path : new String[] {"/api/executions", "/observe/jolokia", "/observe/metrics", "/api/workflows/reload"}) {
            HttpResponse<String> preflight = OpsCoordinator.send("OPTIONS", path, null, false,
                    "Access-Control-Request-Headers", "authorization", "Access-Control-Request-Method", "POST");
            assertThat(preflight.statusCode()).as("OPTIONS %s without credentials: %s", path, preflight.body()).isEqualTo(401);
        }
        assertThat(OpsCoordinator.send("OPTIONS", "/api/executions", null, true,
                "Access-Control-Request-Headers", "authorization").statusCode()).isEqualTo(405);
    }

    /**
     * A request with both Content-Length and Transfer-Encoding: chunked is read by its chunks; RFC 9112 6.1 requires the
     * connection to close after the answer, else the bytes a length-reading proxy sent as the body are a second request.
     */
    @Test
    void aChunkedRequestWithALengthClosesItsConnection() throws Exception {
        URI base = URI.create(OpsCoordinator.shared().httpUrl());
        String auth = "Basic " + Base64.getEncoder().encodeToString((OpsCoordinator.USER + ":" + OpsCoordinator.PASSWORD)
                .getBytes(StandardCharsets.UTF_8));
        String smuggled = "GET /api/workflows HTTP/1.1\r\nHost: x\r\nAuthorization: " + auth + "\r\n\r\n";
        String body = "0\r\n\r\n" + smuggled;
        String request = "POST /api/events HTTP/1.1\r\nHost: " + base.getHost() + "\r\nAuthorization: " + auth
                + "\r\nContent-Type: application/json\r\nContent-Length: " + body.length()
                + "\r\nTransfer-Encoding: chunked\r\n\r\n" + body;
        try (Socket socket = new Socket(base.getHost(), base.getPort())) {
            socket.setSoTimeout(3000);
            OutputStream out = socket.getOutputStream();
            out.write(request.getBytes(StandardCharsets.US_ASCII));
            out.flush();
            ByteArrayOutputStream answer = new ByteArrayOutputStream();
            InputStream in = socket.getInputStream();
            byte[] buffer = new byte[8192];
            boolean closed = false;
            try {
                for (int n; (n = in.read(buffer)) >= 0; ) {
                    answer.write(buffer, 0, n);
                }
                closed = true;
            } catch (SocketTimeoutException stillOpen) {
                // the server kept the connection
            }
            String text = answer.toString(StandardCharsets.ISO_8859_1);
            Matcher statusLines = Pattern.compile("(?m)^HTTP/1\\.1 \\d{3}").matcher(text);
            int answers = 0;
            while (statusLines.find()) {
                answers++;
            }
            assertThat(answers).as("answers on the connection:\n%s", text).isEqualTo(1);
            assertThat(closed).as("connection closed after the answer").isTrue();
        }
    }
}
