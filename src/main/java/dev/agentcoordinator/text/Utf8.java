package dev.agentcoordinator.text;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * Bytes that must be UTF-8 (message bodies, definition files) as text: bytes that are not UTF-8 are refused, naming the
 * first of them, not turned into U+FFFD as the default conversion does, nor told as the JVM's
 * "MalformedInputException: Input length = 3".
 */
public final class Utf8 {
    private Utf8() {
    }

    /** The first byte that is not UTF-8: its value and offset; the message reads "not UTF-8 text: byte 0xe9 at offset 37". */
    public static final class NotUtf8Exception extends IllegalArgumentException {
        private final int offset;

        NotUtf8Exception(int value, int offset) {
            super(String.format(Locale.ROOT, "not UTF-8 text: byte 0x%02x at offset %d", value, offset));
            this.offset = offset;
        }

        public int offset() {
            return offset;
        }
    }

    /**
     * {@code bytes} as text, into at most {@code maxChars} characters: more is refused (IllegalArgumentException "more than
     * the … characters read") without a buffer for them (a 59 MB body took 118 MB of characters before its length was
     * checked); {@link NotUtf8Exception} at the first byte that is not UTF-8.
     */
    public static String decode(byte[] bytes, int maxChars) {
        // one pass, which stops at the first byte it cannot decode (a new decoder reports what it cannot decode)
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder();
        ByteBuffer read = ByteBuffer.wrap(bytes);
        CharBuffer text = CharBuffer.allocate((int) Math.min(bytes.length, maxChars + 1L));
        CoderResult result = decoder.decode(read, text, true);
        if (result.isOverflow()) {
            throw new IllegalArgumentException(String.format(Locale.ROOT, "%,d bytes long: more than the %,d characters read",
                    bytes.length, maxChars));
        }
        if (!result.isError()) {
            result = decoder.flush(text);
        }
        if (result.isError()) {
            int at = Math.min(read.position(), bytes.length - 1);
            throw new NotUtf8Exception(bytes[at] & 0xff, at);
        }
        return text.flip().toString();
    }
}
