package dev.agentcoordinator.api;

import dev.agentcoordinator.engine.Utf8Text;
import org.apache.camel.Message;

/**
 * The text of a posted body, which must be UTF-8 ({@link Utf8Text}): bytes that are not are refused (a 400 naming
 * where), not stored with U+FFFD in their place.
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
            in.setBody(Utf8Text.decode(bytes));
        } catch (IllegalArgumentException notText) {
            throw new IllegalArgumentException("the body is " + notText.getMessage(), notText);
        }
    }
}
