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

    /**
     * Default of {@code coordinator.input.max-message-bytes}: 40 MiB, room for a TextMessage of the 20 million characters
     * read ({@link Json#MAX_MESSAGE_CHARS}; the broker holds a TextMessage's text in 2 bytes a character).
     */
    public static final int DEFAULT_MAX_BYTES = 40 * 1024 * 1024;

    /** The setting that bounds the bytes of a body read, named in every refusal it causes. */
    public static final String MAX_BYTES_SETTING = "coordinator.input.max-message-bytes";

    /** A body longer than {@code coordinator.input.max-message-bytes}, refused before it is read. */
    public static final class TooManyBytesException extends IllegalArgumentException {
        TooManyBytesException(long length, int maxBytes) {
            super(String.format(java.util.Locale.ROOT, "%,d bytes long: more than the %,d bytes read (%s)", length, maxBytes,
                    MAX_BYTES_SETTING));
        }
    }

    /** As {@link #of(org.apache.camel.Message, int)} with the default bound on its bytes. */
    public static String of(org.apache.camel.Message in) {
        return of(in, DEFAULT_MAX_BYTES);
    }

    /**
     * A message body as text: bytes decoded as {@link #decode} does, anything else as Camel converts it. A body longer
     * than {@code maxBytes} is refused unread ({@link TooManyBytesException}): the broker says how long a BytesMessage's
     * body is, and a TextMessage of more bytes comes as one ({@code dev.agentcoordinator.infra.OversizedBodyInterceptor}).
     */
    public static String of(org.apache.camel.Message in, int maxBytes) {
        String kind = NotTextEvents.kindOf(in);
        if (kind != null && !kind.equals("message without a body")) {   // its body is not read: an ObjectMessage's is not deserialized
            throw new IllegalArgumentException("a JMS " + kind + ", not text: JSON text comes as a TextMessage or a BytesMessage");
        }
        long length = unreadLength(in);
        if (length > maxBytes) {
            throw new TooManyBytesException(length, maxBytes);
        }
        // UTF-8 takes at most 3 bytes for a UTF-16 unit: more bytes than that are more characters than are read. Decoded,
        // a 100 MB body took a 200 MB buffer and ran a 512 MB heap out of memory on each delivery
        if (length > 3L * Json.MAX_MESSAGE_CHARS) {
            throw new IllegalArgumentException(String.format(java.util.Locale.ROOT,
                    "%,d bytes long: more than the %,d characters read", length, Json.MAX_MESSAGE_CHARS));
        }
        return in.getBody() instanceof byte[] bytes ? decode(bytes, Json.MAX_MESSAGE_CHARS) : in.getBody(String.class);
    }

    /** {@link TooManyBytesException} when the body is known, unread, to be longer than {@code maxBytes}. */
    public static void refuseIfLonger(org.apache.camel.Message in, int maxBytes) {
        long length = unreadLength(in);
        if (length > maxBytes) {
            throw new TooManyBytesException(length, maxBytes);
        }
    }

    /**
     * Puts a message with the headers of the exchange's and no body in its place, for a body refused unread: a
     * {@link org.apache.camel.component.jms.JmsMessage} asked for a body it does not hold (a null one) reads its JMS
     * message's, which a later step (a statement's parameters, a dead letter) would do.
     */
    public static void dropUnreadBody(org.apache.camel.Exchange exchange) {
        org.apache.camel.support.DefaultMessage headersOnly = new org.apache.camel.support.DefaultMessage(exchange);
        headersOnly.setHeaders(new java.util.HashMap<>(exchange.getMessage().getHeaders()));
        exchange.setMessage(headersOnly);
    }

    /** The length of a BytesMessage's body as the broker gave it, without reading it; -1 for any other body. */
    private static long unreadLength(org.apache.camel.Message in) {
        if (in instanceof org.apache.camel.component.jms.JmsMessage jms && jms.getJmsMessage() instanceof jakarta.jms.BytesMessage bytes) {
            try {
                return bytes.getBodyLength();
            } catch (jakarta.jms.JMSException unknown) {
                return -1;   // read, and measured once decoded
            }
        }
        return -1;
    }
}
