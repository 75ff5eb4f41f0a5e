package dev.agentcoordinator.engine;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** What an event that is no JSON is told: what is wrong and where, in words, without the parser's internals. */
class EventParseErrorTest {
    @Test
    void anUnclosedObjectNamesWhereItWasOpened() {
        assertThatThrownBy(() -> EventDecoder.parse("{\"type\": \"X\", \"payload\": {"))
                .isInstanceOf(InvalidEventException.class)
                .hasMessageStartingWith("event is not valid JSON: Unexpected end-of-input: expected close marker for Object (opened at line 1, column 26)")
                .hasMessageNotContaining("Source")
                .hasMessageNotContaining("StreamReadFeature");
    }

    @Test
    void aWordIsNamedWithItsPlace() {
        assertThatThrownBy(() -> EventDecoder.parse("{\n  \"type\": hello\n}"))
                .hasMessageStartingWith("event is not valid JSON: Unrecognized token 'hello'")
                .hasMessageContaining("at line 2, column ");
    }
}
