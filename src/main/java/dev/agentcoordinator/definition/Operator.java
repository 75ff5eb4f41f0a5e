package dev.agentcoordinator.definition;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.Arrays;
import java.util.Optional;

/** Comparison operators of conditions and loop stop conditions. */
public enum Operator {
    EQ("eq"), NE("ne"), GT("gt"), LT("lt"), GTE("gte"), LTE("lte"), EXISTS("exists"), NOT_EXISTS("not_exists");

    private final String token;

    Operator(String token) {
        this.token = token;
    }

    public String token() {
        return token;
    }

    public static Optional<Operator> parse(String token) {
        return Arrays.stream(values()).filter(o -> o.token.equals(token)).findFirst();
    }

    public static String tokens() {
        return String.join(", ", Arrays.stream(values()).map(Operator::token).toList());
    }

    /** Whether the operator needs a {@code value} to compare with. */
    public boolean needsValue() {
        return this != EXISTS && this != NOT_EXISTS;
    }

    /** Whether the operator orders its operands: numbers (or strings holding one) with numbers, strings with strings. */
    public boolean orders() {
        return this == GT || this == LT || this == GTE || this == LTE;
    }

    /** Applies the operator; a missing or JSON-null {@code actual} only satisfies not_exists (and ne). */
    public boolean test(JsonNode actual, JsonNode expected) {
        boolean present = actual != null && !actual.isNull() && !actual.isMissingNode();
        return switch (this) {
            case EXISTS -> present;
            case NOT_EXISTS -> !present;
            case EQ -> present && jsonEquals(actual, expected);
            case NE -> !present || !jsonEquals(actual, expected);
            case GT -> present && compareOr(actual, expected, c -> c > 0);
            case LT -> present && compareOr(actual, expected, c -> c < 0);
            case GTE -> present && compareOr(actual, expected, c -> c >= 0);
            case LTE -> present && compareOr(actual, expected, c -> c <= 0);
        };
    }

    private static boolean compareOr(JsonNode a, JsonNode b, java.util.function.IntPredicate accept) {
        Integer c = compare(a, b);
        return c != null && accept.test(c);
    }

    /**
     * JSON equality with numbers compared by value, also inside arrays and objects: {@code 1} equals {@code 1.0}
     * wherever it is (an agent in Python writes {@code 1.0} for a float that holds 1).
     */
    private static boolean jsonEquals(JsonNode a, JsonNode b) {
        return b != null && a.equals(NUMBERS_BY_VALUE, b);
    }

    private static final java.util.Comparator<JsonNode> NUMBERS_BY_VALUE = (x, y) -> x.isNumber() && y.isNumber()
            ? x.decimalValue().compareTo(y.decimalValue()) : x.equals(y) ? 0 : 1;

    /**
     * Numbers compare numerically, strings lexically, and a string that holds a number with a number as
     * that number, as the spec's JavaScript {@code >} does (an agent's {@code "score": "0.85"} meets
     * {@code gt 0.8}); anything else is incomparable (null).
     */
    private static Integer compare(JsonNode a, JsonNode b) {
        if (b == null) {
            return null;
        }
        if (a.isTextual() && b.isTextual()) {
            return a.asText().compareTo(b.asText());
        }
        java.math.BigDecimal left = number(a);
        java.math.BigDecimal right = number(b);
        return left != null && right != null && (a.isNumber() || b.isNumber()) ? left.compareTo(right) : null;
    }

    /** The number a node is or holds as text (trimmed, not empty), else null. */
    private static java.math.BigDecimal number(JsonNode node) {
        if (node.isNumber()) {
            return node.decimalValue();
        }
        String text = node.isTextual() ? node.asText().strip() : "";
        if (text.isEmpty() || text.length() > 100) {
            return null;
        }
        try {
            return new java.math.BigDecimal(text);
        } catch (NumberFormatException notANumber) {
            return null;
        }
    }
}
