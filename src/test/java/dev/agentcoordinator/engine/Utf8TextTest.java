package dev.agentcoordinator.engine;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Bytes read as UTF-8 text: refused naming the first byte that is not, or past the characters read, without a buffer for more. */
class Utf8TextTest {
    @Test
    void textIsDecodedAndWhatIsNotUtf8IsNamed() {
        assertThat(Utf8Text.decode("héllo 😀".getBytes(StandardCharsets.UTF_8), 10)).isEqualTo("héllo 😀");
        assertThatThrownBy(() -> Utf8Text.decode(new byte[] {'a', (byte) 0xe9, 'b'})).hasMessage("not UTF-8 text: byte 0xe9 at offset 1");
    }

    /** More characters than are read is refused as it decodes (a 59 MB body took 118 MB of characters before it was measured). */
    @Test
    void moreCharactersThanAreReadAreRefusedAsTheyDecode() {
        assertThat(Utf8Text.decode("x".repeat(10).getBytes(StandardCharsets.UTF_8), 10)).hasSize(10);
        assertThatThrownBy(() -> Utf8Text.decode("x".repeat(12).getBytes(StandardCharsets.UTF_8), 10))
                .hasMessage("12 bytes long: more than the 10 characters read");
        // bytes of several to a character: what decodes within the bound passes
        assertThat(Utf8Text.decode("é".repeat(10).getBytes(StandardCharsets.UTF_8), 10)).hasSize(10);
    }
}
