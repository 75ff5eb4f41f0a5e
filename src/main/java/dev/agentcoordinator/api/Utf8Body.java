package dev.agentcoordinator.api;

import org.apache.camel.Message;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.StandardCharsets;

/**
 * The text of a posted body, which must be UTF-8 (CONTRACT.md: "All bodies are UTF-8 JSON text"): bytes that are not
 * are refused (a 400 naming where), not stored with U+FFFD in their place, as the default conversion does.
 */
public final class Utf8Body {
    private Utf8Body() {
    }

    /** Replaces the message's body, as the HTTP server handed it over (bytes), by its text; IllegalArgumentException when it is not UTF-8. */
    public static void decode(Message in) {
        Object body = in.getBody();
        byte[] bytes = body instanceof byte[] raw ? raw : body instanceof io.vertx.core.buffer.Buffer buffer ? buffer.getBytes() : null;
        if (bytes == null) {
            return;   // text already, or none
        }
        // one pass, which stops at the first byte it cannot decode (a new decoder reports what it cannot decode)
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder();
        ByteBuffer read = ByteBuffer.wrap(bytes);
        CharBuffer text = CharBuffer.allocate(bytes.length);
        CoderResult result = decoder.decode(read, text, true);
        if (!result.isError()) {
            result = decoder.flush(text);
        }
        if (result.isError()) {
            int at = Math.min(read.position(), bytes.length - 1);
            throw new IllegalArgumentException(String.format("the body is not UTF-8 text: byte 0x%02x at offset %d", bytes[at] & 0xff, at));
        }
        in.setBody(text.flip().toString());
    }
}
