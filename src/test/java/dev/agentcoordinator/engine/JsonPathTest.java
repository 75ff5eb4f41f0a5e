package dev.agentcoordinator.engine;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** Dotted paths (input mappings, conditions, loop feedback, lock resource ids) into a step's output or a trigger. */
class JsonPathTest {
    private static final com.fasterxml.jackson.databind.JsonNode OUTPUT = Json.parse("{\"arr\": [{\"id\": \"first\"}, 2], \"obj\": {\"0\": \"zero\"}}");

    @Test
    void anIndexNamesAnArraysElementAndADigitKeyAnObjectsField() {
        assertThat(Json.at(OUTPUT, "arr.0.id").asText()).isEqualTo("first");
        assertThat(Json.at(OUTPUT, "arr.1").asInt()).isEqualTo(2);
        assertThat(Json.at(OUTPUT, "obj.0").asText()).isEqualTo("zero");
    }

    /** An index no array can have was a NumberFormatException: the reply that read it was rolled back on every delivery. */
    @Test
    void anIndexPastAnyArrayOrNoIndexAtAllIsMissing() {
        assertThat(Json.at(OUTPUT, "arr.99999999999999999999").isMissingNode()).isTrue();
        assertThat(Json.at(OUTPUT, "arr.2147483648").isMissingNode()).isTrue();
        assertThat(Json.at(OUTPUT, "arr.5").isMissingNode()).isTrue();
        assertThat(Json.at(OUTPUT, "arr..id").isMissingNode()).isTrue();
        assertThat(Json.at(OUTPUT, "arr.-1").isMissingNode()).isTrue();
        assertThat(Json.at(OUTPUT, "arr.x").isMissingNode()).isTrue();
        assertThat(Json.at(OUTPUT, "arr.01").isMissingNode()).as("as items[\"01\"] in JavaScript; it read arr.1").isTrue();
        assertThat(Json.at(OUTPUT, "arr.00").isMissingNode()).isTrue();
    }

    /**
     * A key with dots in it is read as written, as the spec reads {@code trigger_payload[mapping.from_trigger]}: before,
     * the path was always split at its dots, and such a key could not be read at all. Where both are there, the key
     * as written wins; a key with dots inside a nested object is found as well.
     */
    @Test
    void aKeyWithDotsIsReadAsWritten() {
        var payload = Json.parse("{\"k.with.dots\": \"flat\", \"a\": {\"b.c\": 1, \"b\": {\"c\": 2}}, \"x\": {\"y\": 3}}");
        assertThat(Json.at(payload, "k.with.dots").asText()).isEqualTo("flat");
        assertThat(Json.at(payload, "a.b.c").asInt()).isEqualTo(1);
        assertThat(Json.at(payload, "x.y").asInt()).isEqualTo(3);
        assertThat(Json.at(Json.parse("{\"k\": {\"with\": {\"dots\": \"nested\"}}, \"k.with.dots\": \"flat\"}"), "k.with.dots").asText())
                .isEqualTo("flat");
        assertThat(Json.at(payload, "k.with").isMissingNode()).isTrue();
    }
}
