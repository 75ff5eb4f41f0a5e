package dev.agentcoordinator.engine;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.MissingNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/** The one ObjectMapper of the engine, and dotted-path navigation over JSON trees. */
public final class Json {
    /**
     * Strict about what follows the value: {@code {"type": "X"} trailing} is not JSON. java.time is the
     * one module it needs; {@code findAndRegisterModules()} would also take whatever other dependencies
     * bring (camel-openapi-java brings Joda and JAXB-annotation modules), changing the JSON written with
     * the classpath and loading about 170 classes more at start.
     */
    /**
     * Numbers are read as they are written (a decimal, not the nearest double): a payload's or an output's
     * 12345678901234.56789 reached PostgreSQL as 12345678901234.568, 1e400 as the string "Infinity", 1.10 as 1.1.
     */
    public static final ObjectMapper MAPPER = new ObjectMapper()
            .registerModule(new com.fasterxml.jackson.datatype.jsr310.JavaTimeModule())
            .enable(com.fasterxml.jackson.databind.DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(com.fasterxml.jackson.databind.DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
            .setNodeFactory(JsonNodeFactory.withExactBigDecimals(true));

    /**
     * Every time the coordinator writes: UTC to the microsecond (PostgreSQL's precision), always six fraction digits, as
     * PostgreSQL's {@code utc_time} (V41) writes the step results, so that one fixed pattern parses them all.
     * {@code Instant.toString()} dropped trailing zeros: 0, 3 or 6 digits, which such a pattern failed on now and then.
     */
    private static final java.time.format.DateTimeFormatter TIME =
            java.time.format.DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSSSSS'Z'").withZone(java.time.ZoneOffset.UTC);

    /**
     * The longest event or agent reply read, in characters: Jackson's own bound on one string, for the whole text. A
     * text made of several strings each under that bound (five of 10 MB) built a tree that ran a 512 MB heap out of
     * memory on every delivery, until the broker dead-lettered it without a reason.
     */
    public static final int MAX_MESSAGE_CHARS = 20_000_000;

    /**
     * Default of {@code coordinator.input.max-json-tokens}: the most JSON tokens (keys, values, brackets) read from one
     * event or step reply. Length alone did not bound the heap: an event of 13 MB with a million keys
     * (two million tokens) took the coordinator's heap from 51 MB to 414 MB, where one 13 MB string takes a few dozen.
     */
    public static final int DEFAULT_MAX_TOKENS = 1_000_000;

    /** The setting that bounds the tokens read, named in every refusal it causes. */
    public static final String MAX_TOKENS_SETTING = "coordinator.input.max-json-tokens";

    private Json() {
    }

    /** Readers with Jackson's own bound on the tokens of a document ({@code StreamReadConstraints.maxTokenCount}), by bound. */
    private static final java.util.concurrent.ConcurrentMap<Integer, com.fasterxml.jackson.databind.ObjectReader> BOUNDED =
            new java.util.concurrent.ConcurrentHashMap<>();

    private static com.fasterxml.jackson.databind.ObjectReader bounded(int maxTokens) {
        return BOUNDED.computeIfAbsent(maxTokens, max -> MAPPER.copyWith(com.fasterxml.jackson.core.JsonFactory.builder()
                        .streamReadConstraints(com.fasterxml.jackson.core.StreamReadConstraints.builder().maxTokenCount(max).build())
                        .build())
                .reader().with(com.fasterxml.jackson.core.StreamReadFeature.STRICT_DUPLICATE_DETECTION));
    }

    /** Thrown when a text holds more JSON tokens than are read: the parser stops there, before the rest of the tree is built. */
    public static final class TooManyTokensException extends IllegalArgumentException {
        private final int maxTokens;

        /** "more than 1,000 JSON tokens (…): at most 1,000 are read (coordinator.input.max-json-tokens)". */
        public TooManyTokensException(int maxTokens) {
            this("", maxTokens);
        }

        /** "{@code what} has more than …": the event, the agent reply. */
        public TooManyTokensException(String what, int maxTokens) {
            super((what.isEmpty() ? "" : what + " has ") + String.format(java.util.Locale.ROOT,
                    "more than %,d JSON tokens (keys, values, brackets): at most %,d are read (%s)", maxTokens, maxTokens, MAX_TOKENS_SETTING));
            this.maxTokens = maxTokens;
        }

        public int maxTokens() {
            return maxTokens;
        }
    }

    private static boolean isTokenCount(com.fasterxml.jackson.core.exc.StreamConstraintsException e) {
        return String.valueOf(e.getOriginalMessage()).startsWith("Token count");
    }

    /** As {@link #parseStrict(String)}, reading at most {@code maxTokens} tokens ({@link TooManyTokensException} past them). */
    public static JsonNode parseStrict(String text, int maxTokens) {
        if (text == null || text.isBlank()) {
            return object();
        }
        try {
            return bounded(maxTokens).readTree(text);
        } catch (com.fasterxml.jackson.core.exc.StreamConstraintsException e) {
            if (isTokenCount(e)) {
                throw new TooManyTokensException(maxTokens);
            }
            throw new IllegalArgumentException("not valid JSON: " + whatIsWrong(e), e);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("not valid JSON: " + whatIsWrong(e), e);
        }
    }

    /**
     * Whether {@code text} holds more than {@code maxTokens} JSON tokens, read as a stream (no tree is built); text that is
     * not JSON is left to the parse that follows to name what is wrong.
     */
    public static boolean hasMoreTokensThan(String text, int maxTokens) {
        // every token takes a character at least: a text no longer than the bound (every reply of a usual size) is not read
        // again, off the per-step path
        if (text == null || text.length() <= maxTokens) {
            return false;
        }
        try (com.fasterxml.jackson.core.JsonParser parser = bounded(maxTokens).createParser(text)) {
            while (parser.nextToken() != null) {
                // counted by the parser's constraints
            }
            return false;
        } catch (com.fasterxml.jackson.core.exc.StreamConstraintsException e) {
            return isTokenCount(e);
        } catch (java.io.IOException notJson) {
            return false;
        }
    }

    /** {@code instant} as every time in the coordinator's JSON: {@code 2026-12-06T11:45:14.500000Z}. */
    public static String time(java.time.Instant instant) {
        return TIME.format(instant);
    }

    public static ObjectNode object() {
        return JsonNodeFactory.instance.objectNode();
    }

    public static ArrayNode array() {
        return JsonNodeFactory.instance.arrayNode();
    }

    /** Parses JSON text; null or blank text is an empty object (a column that was never written). */
    public static JsonNode parse(String text) {
        return read(PLAIN, text);
    }

    private static final com.fasterxml.jackson.databind.ObjectReader PLAIN = MAPPER.reader();

    /** Reads what a sender writes (an event): a key given twice in one object is an error, not the last one winning. */
    private static final com.fasterxml.jackson.databind.ObjectReader STRICT = MAPPER.reader()
            .with(com.fasterxml.jackson.core.StreamReadFeature.STRICT_DUPLICATE_DETECTION);

    /** As {@link #parse}, refusing a key given twice in one object ("not valid JSON: Duplicate field 'type' at line 1, column 28"). */
    public static JsonNode parseStrict(String text) {
        return read(STRICT, text);
    }

    private static JsonNode read(com.fasterxml.jackson.databind.ObjectReader reader, String text) {
        if (text == null || text.isBlank()) {
            return object();
        }
        try {
            return reader.readTree(text);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("not valid JSON: " + whatIsWrong(e), e);
        }
    }

    /** Jackson's reason, where it is (line, column), without its parser internals ("[Source: REDACTED (...)"). */
    private static String whatIsWrong(JsonProcessingException e) {
        String reason = START_MARKER.matcher(String.valueOf(e.getOriginalMessage())).replaceAll(" (opened at line $1, column $2)");
        com.fasterxml.jackson.core.JsonLocation at = e.getLocation();
        return at == null || at.getLineNr() < 1 ? reason : reason + " at line " + at.getLineNr() + ", column " + at.getColumnNr();
    }

    private static final java.util.regex.Pattern START_MARKER =
            java.util.regex.Pattern.compile("\\s*\\(start marker at \\[Source:.*?line: (\\d+), column: (\\d+)\\]\\)");

    public static String write(Object value) {
        try {
            return MAPPER.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write JSON", e);
        }
    }

    /**
     * The array index a path part names: its digits, or -1 when it is not digits or more than any array holds (an index
     * of 20 digits threw, and the reply or event that read it was rolled back on every delivery).
     */
    private static int arrayIndex(String part) {
        if (part.isEmpty() || part.length() > 9 || !part.chars().allMatch(c -> c >= '0' && c <= '9')
                || part.length() > 1 && part.charAt(0) == '0') {   // "01" is no index, as in the spec's JavaScript (items["01"])
            return -1;
        }
        return Integer.parseInt(part);
    }

    /**
     * Follows a dotted path ({@code candidate.email}, {@code items.0.id}); MissingNode when absent. At each object on
     * the way, a key that is the rest of the path as written (dots and all) is taken first.
     */
    public static JsonNode at(JsonNode root, String dottedPath) {
        JsonNode node = root == null ? MissingNode.getInstance() : root;
        if (dottedPath == null || dottedPath.isEmpty()) {
            return node;
        }
        String rest = dottedPath;
        while (true) {
            if (node.isObject() && node.has(rest)) {   // a key with dots in it, as the spec reads payload[key]
                return node.get(rest);
            }
            int dot = rest.indexOf('.');
            String part = dot < 0 ? rest : rest.substring(0, dot);
            node = node.isArray() ? node.path(arrayIndex(part))   // -1, an index no array has, when it is none
                    : node.path(part);
            if (dot < 0 || node.isMissingNode()) {
                return node;
            }
            rest = rest.substring(dot + 1);
        }
    }

    /**
     * The most digits a number may have written out, as PostgreSQL writes a jsonb number back (1E+2000 as 2,001 digits):
     * Jackson's own bound on the numbers it reads ({@code StreamReadConstraints}), so that what is stored reads again.
     */
    public static final int MAX_NUMBER_DIGITS = 1000;

    /**
     * The deepest a stored value may nest. Jackson reads at most 1,000 levels, and what the coordinator stores is wrapped
     * in more as it goes on: an output 996 levels deep was taken, and its execution's outcome event
     * ({@code payload.results.<step>.output}) was refused by the coordinator itself, dead-lettered without its id.
     */
    public static final int MAX_DEPTH = 900;

    /**
     * The deepest a step reply may nest: its output lands three levels deeper in its execution's outcome event
     * ({@code payload.results.<step>.output} for the reply's {@code output}), which is read as any event, to
     * {@link #MAX_DEPTH}; a few more levels to spare.
     */
    public static final int REPLY_MAX_DEPTH = MAX_DEPTH - 10;


    /**
     * Why a JSON value cannot be stored as it is and read back, in words that follow its name ("event " + …), naming the
     * place; null when it can. One walk over the tree, for:
     * <ul>
     *   <li>U+0000 in a key or a string: PostgreSQL refuses it;</li>
     *   <li>an unpaired surrogate (a JSON {@code "\ud800"} alone), which is no text: the driver's UTF-8 kept it as "?"
     *       without a word;</li>
     *   <li>a number with a large exponent, a few characters of JSON (1e2000) that PostgreSQL stores written out: past
     *       {@link #MAX_NUMBER_DIGITS} digits neither the coordinator nor the Java SDK could read it back (500s, a request
     *       its agent refused, sweeps failing every 10 s), and past PostgreSQL's own bound (1e999999999) every delivery
     *       failed ("value overflows numeric format") until the broker dead-lettered it;</li>
     *   <li>nesting deeper than {@link #MAX_DEPTH}.</li>
     * </ul>
     */
    public static String unstorable(JsonNode node) {
        return unstorable(node, MAX_DEPTH);
    }

    /** As {@link #unstorable(JsonNode)}, with another bound on the nesting than {@link #MAX_DEPTH}. */
    public static String unstorable(JsonNode node, int maxDepth) {
        Unstorable found = find(node, 1, maxDepth);
        return found == null ? null : found.said();
    }

    /** What cannot be stored, and where: the words around the place, its path gathered on the way back (none is built else). */
    private static final class Unstorable {
        private final String before;
        private final String after;
        private final java.util.ArrayDeque<String> path = new java.util.ArrayDeque<>();

        Unstorable(String before, String after) {
            this.before = before;
            this.after = after;
        }

        Unstorable under(String key) {
            if (before != TOO_DEEP) {   // a path of 900 keys says nothing more
                path.addFirst(key);
            }
            return this;
        }

        /** The words, the place written with U+0000 and surrogates as escapes (the words go where those cannot). */
        String said() {
            if (path.isEmpty()) {
                return before + after;
            }
            StringBuilder at = new StringBuilder(before).append(" at ");
            String place = String.join(".", path);
            for (int i = 0; i < place.length(); i++) {
                char c = place.charAt(i);
                if (c == '\0' || Character.isSurrogate(c)) {
                    at.append(String.format(java.util.Locale.ROOT, "\\u%04X", (int) c));
                } else {
                    at.append(c);
                }
            }
            return at.append(after).toString();
        }
    }

    private static final String TOO_DEEP = "nests deeper than ";

    private static Unstorable find(JsonNode node, int depth, int maxDepth) {
        if (node == null) {
            return null;
        }
        if (depth > maxDepth && node.isContainerNode()) {
            return new Unstorable(TOO_DEEP, maxDepth + " levels: what the coordinator stores is wrapped in more as it goes on"
                    + " (an outcome event, a next step's request), past the 1,000 levels JSON is read to");
        }
        if (node.isTextual()) {
            return unstorableText(node.textValue());
        }
        if (node.isDouble() && !Double.isFinite(node.doubleValue())) {   // a definition's literal (read as a double) over ±1.8e308
            return new Unstorable("holds a number too large to be read (" + node.doubleValue(), ")");
        }
        if (node.isBigDecimal()) {
            java.math.BigDecimal value = node.decimalValue();
            if (value.signum() == 0) {
                return null;   // 0e5000 is stored as 0
            }
            long written = Math.max(1L, (long) value.precision() - value.scale()) + Math.max(0L, value.scale());
            return written <= MAX_NUMBER_DIGITS ? null : new Unstorable(String.format(java.util.Locale.ROOT,
                    "holds a number of %,d digits written out, as PostgreSQL stores it (%s", written, value),
                    String.format(java.util.Locale.ROOT, "): at most %,d", MAX_NUMBER_DIGITS));
        }
        if (node.isObject()) {
            var fields = node.fields();
            while (fields.hasNext()) {
                var field = fields.next();
                Unstorable found = unstorableText(field.getKey());
                if (found == null) {
                    found = find(field.getValue(), depth + 1, maxDepth);
                }
                if (found != null) {
                    return found.under(field.getKey());
                }
            }
        } else if (node.isArray()) {
            for (int i = 0; i < node.size(); i++) {
                Unstorable found = find(node.get(i), depth + 1, maxDepth);
                if (found != null) {
                    return found.under(Integer.toString(i));
                }
            }
        }
        return null;
    }

    private static Unstorable unstorableText(String text) {
        if (text.indexOf('\0') >= 0) {
            return new Unstorable("contains the character U+0000 (\\u0000", "), which PostgreSQL cannot store");
        }
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                return new Unstorable(String.format(java.util.Locale.ROOT, "contains an unpaired surrogate (\\u%04X", (int) c),
                        "), which is not text: PostgreSQL would store it as \"?\"");
            }
        }
        return null;
    }

    public static boolean isPresent(JsonNode node) {
        return node != null && !node.isMissingNode() && !node.isNull();
    }
}
