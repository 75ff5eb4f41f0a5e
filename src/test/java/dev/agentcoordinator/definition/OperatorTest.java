package dev.agentcoordinator.definition;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The comparison of conditions and loop stop conditions, against the spec's JavaScript operators. */
class OperatorTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static boolean holds(String operator, String actual, String expected) throws Exception {
        JsonNode value = expected == null ? null : JSON.readTree(expected);
        return Operator.parse(operator).orElseThrow().test(actual == null ? null : JSON.readTree(actual), value);
    }

    @Test
    void orderingComparesNumbersNumericallyAndStringsLexically() throws Exception {
        assertThat(holds("gt", "0.85", "0.8")).isTrue();
        assertThat(holds("gte", "8", "8.0")).isTrue();
        assertThat(holds("lt", "\"apple\"", "\"banana\"")).isTrue();
        assertThat(holds("lt", "\"10\"", "\"9\"")).as("two strings: lexically, as JavaScript").isTrue();
    }

    /** An LLM-backed agent often writes its score as text: JavaScript's > reads it as the number it holds. */
    @Test
    void aStringHoldingANumberComparesWithANumberAsThatNumber() throws Exception {
        assertThat(holds("gt", "\"0.85\"", "0.8")).isTrue();
        assertThat(holds("lt", "\" 0.85 \"", "0.8")).isFalse();
        assertThat(holds("gte", "0.8", "\"0.8\"")).isTrue();
        assertThat(holds("lte", "\"1e3\"", "999")).isFalse();
    }

    @Test
    void whatHoldsNoNumberIsIncomparableAndMeetsNoOrdering() throws Exception {
        for (String operator : new String[] {"gt", "lt", "gte", "lte"}) {
            assertThat(holds(operator, "\"high\"", "0.8")).as(operator + " on a word").isFalse();
            assertThat(holds(operator, "\"\"", "0")).as(operator + " on an empty string (JavaScript reads 0)").isFalse();
            assertThat(holds(operator, "true", "0")).as(operator + " on a boolean").isFalse();
            assertThat(holds(operator, "{\"a\":1}", "0")).as(operator + " on an object").isFalse();
            assertThat(holds(operator, "null", "0")).as(operator + " on null").isFalse();
            assertThat(holds(operator, null, "0")).as(operator + " on a missing key").isFalse();
        }
    }

    @Test
    void equalityIsStrictAsTheSpecsTripleEquals() throws Exception {
        assertThat(holds("eq", "\"0.85\"", "0.85")).isFalse();
        assertThat(holds("ne", "\"0.85\"", "0.85")).isTrue();
        assertThat(holds("eq", "1.0", "1")).as("one number, however written").isTrue();
        assertThat(holds("eq", "true", "true")).isTrue();
    }

    /** A number is the same number inside an array or object too (a Python agent writes 1.0 for a float holding 1). */
    @Test
    void numbersInsideArraysAndObjectsCompareByValue() throws Exception {
        assertThat(holds("eq", "[1, 2, 3]", "[1.0, 2, 3]")).isTrue();
        assertThat(holds("ne", "[1, 2, 3]", "[1.0, 2, 3]")).isFalse();
        assertThat(holds("eq", "{\"x\": {\"y\": [1]}}", "{\"x\": {\"y\": [1.00]}}")).isTrue();
        assertThat(holds("eq", "[1, 2]", "[2, 1]")).as("order counts in an array").isFalse();
        assertThat(holds("eq", "[\"1\"]", "[1]")).as("a string is not a number, nested or not").isFalse();
        assertThat(holds("eq", "{\"x\": 1}", "{\"x\": 1, \"y\": 2}")).isFalse();
    }

    @Test
    void existenceLooksAtPresenceOnly() throws Exception {
        assertThat(holds("exists", "0", null)).isTrue();
        assertThat(holds("exists", "null", null)).isFalse();
        assertThat(holds("not_exists", null, null)).isTrue();
    }
}
