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
    }
}
