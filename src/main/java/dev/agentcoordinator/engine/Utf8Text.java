package dev.agentcoordinator.engine;

/**
 * The text of a body that must be UTF-8 (CONTRACT.md: "All bodies are UTF-8 JSON text"), whether it came over HTTP or
 * as a BytesMessage (STOMP with content-length): bytes that are not UTF-8 are refused, naming the first of them,
 * not turned into U+FFFD as the default conversion does.
 */
public final class Utf8Text {
    private Utf8Text() {
    }

    /** {@code bytes} as text; IllegalArgumentException "not UTF-8 text: byte 0xe9 at offset 37" when they are not UTF-8. */
    public static String decode(byte[] bytes) {
        return decode(bytes, Integer.MAX_VALUE);
    }

    /** As {@link dev.agentcoordinator.text.Utf8#decode}: into at most {@code maxChars} characters. */
    public static String decode(byte[] bytes, int maxChars) {
        return dev.agentcoordinator.text.Utf8.decode(bytes, maxChars);
    }

    /** A message body as text: bytes decoded as {@link #decode} does, anything else as Camel converts it. */
    public static String of(org.apache.camel.Message in) {
        String kind = NotTextEvents.kindOf(in);
        if (kind != null && !kind.equals("message without a body")) {   // its body is not read: an ObjectMessage's is not deserialized
            throw new IllegalArgumentException("a JMS " + kind + ", not text: JSON text comes as a TextMessage or a BytesMessage");
        }
        if (in instanceof org.apache.camel.component.jms.JmsMessage jms && jms.getJmsMessage() instanceof jakarta.jms.BytesMessage bytes) {
            long length;
            try {
                length = bytes.getBodyLength();
            } catch (jakarta.jms.JMSException unknown) {
                length = 0;   // read, and measured once decoded
            }
            // UTF-8 takes at most 3 bytes for a UTF-16 unit: more bytes than that are more characters than are read. Decoded,
            // a 100 MB body took a 200 MB buffer and ran a 512 MB heap out of memory on each delivery
            if (length > 3L * Json.MAX_MESSAGE_CHARS) {
                throw new IllegalArgumentException(String.format(java.util.Locale.ROOT,
                        "%,d bytes long: more than the %,d characters read", length, Json.MAX_MESSAGE_CHARS));
            }
        }
        return in.getBody() instanceof byte[] bytes ? decode(bytes, Json.MAX_MESSAGE_CHARS) : in.getBody(String.class);
    }
}
