package dev.agentcoordinator.api;

import org.apache.camel.Message;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
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
        try {
            in.setBody(StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString());
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException("the body is not UTF-8 text: " + firstBadByte(bytes));
        }
    }

    /** Where the first byte is that does not decode, for the answer. */
    private static String firstBadByte(byte[] bytes) {
        ByteBuffer in = ByteBuffer.wrap(bytes);
        StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                .decode(in, java.nio.CharBuffer.allocate(bytes.length), true);   // stops at the first byte it cannot decode
        int at = Math.min(in.position(), bytes.length - 1);
        return String.format("byte 0x%02x at offset %d", bytes[at] & 0xff, at);
    }
}
