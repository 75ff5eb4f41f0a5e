package dev.agentcoordinator.infra;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/** STOMP over a plain socket, as the broker tests speak it: one frame out, one frame in. */
public final class StompFrames {
    private StompFrames() {
    }

    public static void writeFrame(OutputStream out, String frame) throws IOException {
        out.write(frame.getBytes(StandardCharsets.UTF_8));
        out.write(0);
        out.flush();
    }

    /** Reads one STOMP frame (up to its NUL terminator), skipping heart-beat newlines before it. */
    public static String readFrame(InputStream in) throws IOException {
        ByteArrayOutputStream frame = new ByteArrayOutputStream();
        int b;
        while ((b = in.read()) != -1 && b != 0) {
            if (frame.size() == 0 && (b == '\n' || b == '\r')) {
                continue;
            }
            frame.write(b);
        }
        return frame.toString(StandardCharsets.UTF_8);
    }
}
