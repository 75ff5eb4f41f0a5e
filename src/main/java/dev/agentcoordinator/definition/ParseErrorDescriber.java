package dev.agentcoordinator.definition;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.exc.ValueInstantiationException;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Turns a Jackson parse failure into one short {@link DefinitionError} that names the JSON path
 * ({@code steps[2].config}) and says what was expected and found, instead of Jackson's Java-flavoured text.
 */
final class ParseErrorDescriber {
    private static final Pattern YAML_POSITION = Pattern.compile("^\\s*in '.*', line (\\d+), column (\\d+)");
    /** Jackson's "Numeric value (3000000000) out of range of int (-2147483648 - 2147483647)". */
    private static final Pattern OUT_OF_RANGE = Pattern.compile("^Numeric value \\((\\S+)\\) out of range of ");

    private ParseErrorDescriber() {
    }

    /** The line (from 1) of the {@code ---} that the content of line {@code lineNr} follows (blank lines and comments between), else 0. */
    private static int documentSeparatorBefore(String content, int lineNr) {
        List<String> lines = content.lines().limit(Math.max(lineNr, 0)).toList();
        for (int i = lines.size() - 1; i >= 0; i--) {
            String line = lines.get(i).strip();
            if (line.startsWith("---")) {
                return i + 1;
            }
            if (i < lines.size() - 1 && !line.isEmpty() && !line.startsWith("#")) {
                return 0;
            }
        }
        return 0;
    }

    static DefinitionError describe(String file, String content, ObjectMapper mapper, JsonProcessingException e) {
        String yamlProblem = yamlSyntaxProblem(e);
        List<JsonMappingException.Reference> refs = e instanceof JsonMappingException m ? m.getPath() : List.of();
        String path = jsonPath(refs);
        if (yamlProblem != null) {
            return located(file, content, mapper, refs, "YAML syntax error: " + yamlProblem);
        }
        if (e instanceof UnrecognizedPropertyException u) {
            String known = u.getKnownPropertyIds() == null ? "" : u.getKnownPropertyIds().stream()
                    .map(String::valueOf).sorted().collect(Collectors.joining(", ", " (known fields: ", ")"));
            return located(file, content, mapper, refs.subList(0, Math.max(0, refs.size() - 1)),
                    "unknown field \"" + u.getPropertyName() + "\"" + at(location(u, content, mapper)) + known
                            + closest(u.getPropertyName(), u.getKnownPropertyIds(), fieldsBeside(content, mapper, refs)));
        }
        if (e instanceof ValueInstantiationException v && v.getCause() instanceof NullPointerException) {
            // the records copy their lists and maps, which refuses nulls: "- " or "key:" with nothing after it
            String empty = firstEmptyEntry(content, mapper);
            return empty != null
                    ? DefinitionError.ofWorkflow(file, empty, "is empty (a \"-\" or \"key:\" with nothing after it)")
                    : DefinitionError.ofWorkflow(file, path, "has an empty (null) entry in a list or mapping"
                            + " (a \"-\" or \"key:\" with nothing after it?)");
        }
        String original = firstLine(e.getOriginalMessage());
        if (original.startsWith("Duplicate field")) {
            // YAML lets a key beside a merge ("<<: *base") override the merged one; read strictly, it is a duplicate
            String merged = besideAMerge(content, e.getLocation()) ? ": a key merged in with \"<<\" is not given again"
                    + " beside it (the coordinator reads no overrides of a merge)" : "";
            return located(file, content, mapper, refs, "duplicate key " + original.substring("Duplicate field ".length())
                    + at(e.getLocation()) + merged);
        }
        if (original.contains("found field '<<' but value isn't a map")) {   // the replaying parser's word for <<: [*a, *b]
            return located(file, content, mapper, refs, "a merge (<<) takes one alias of a mapping, not a list of them"
                    + at(e instanceof JsonMappingException m ? location(m, content, mapper) : e.getLocation())
                    + ": merge one and write the other's keys out");
        }
        if (original.startsWith("invalid alias ")) {   // YAMLAnchorReplayingParser's word for an alias of no anchor
            String anchor = original.substring("invalid alias ".length());
            return located(file, content, mapper, refs, "alias *" + anchor + " names no anchor before it" + aliasAt(content, anchor)
                    + ": an anchor is written &" + anchor + " on the value it names, above the alias");
        }
        if (original.startsWith("Trailing token")) {
            int separator = mapper instanceof com.fasterxml.jackson.dataformat.yaml.YAMLMapper && e.getLocation() != null
                    ? documentSeparatorBefore(content, e.getLocation().getLineNr()) : 0;
            return DefinitionError.ofWorkflow(file, null, "unexpected content after the workflow" + at(e.getLocation())
                    + (separator > 0 ? ": a second YAML document, begun by the --- of line " + separator + "; a file holds one workflow" : ""));
        }
        Matcher outOfRange = OUT_OF_RANGE.matcher(original);
        if (e instanceof JsonMappingException m && outOfRange.find()) {
            return located(file, content, mapper, refs, "expected an integer, found " + outOfRange.group(1)
                    + (outOfRange.group(1).startsWith("-") ? " (far too small)" : " (far too large)") + at(location(m, content, mapper)));
        }
        if (e instanceof MismatchedInputException m && m.getTargetType() != null) {
            return located(file, content, mapper, refs, "expected " + describeType(m.getTargetType())
                    + ", found " + describeFound(content, mapper, m.getPath()) + at(location(m, content, mapper)));
        }
        if (e instanceof JsonMappingException && e.getCause() instanceof com.fasterxml.jackson.core.JsonParseException syntax) {
            // JSON text broken inside a value read as a whole (a step's config): where the parser stopped, not where
            // the value began
            return located(file, content, mapper, refs, "syntax error" + at(syntax.getLocation()) + ": "
                    + firstLine(syntax.getOriginalMessage()));
        }
        if (e instanceof JsonMappingException) {
            return located(file, content, mapper, refs, original + at(location((JsonMappingException) e, content, mapper)));
        }
        return DefinitionError.ofWorkflow(file, null, "syntax error" + at(e.getLocation()) + ": " + original);
    }

    /**
     * A problem at {@code refs}, named as the rules name theirs: inside a step whose id is a string, by that id and the
     * path within the step ({@code step "a": config.retry_count}); elsewhere by its path ({@code steps[0].id}).
     */
    private static DefinitionError located(String file, String content, ObjectMapper mapper,
                                           List<JsonMappingException.Reference> refs, String message) {
        if (refs.size() >= 2 && "steps".equals(refs.get(0).getFieldName()) && refs.get(1).getFieldName() == null) {
            JsonNode steps = Document.of(content, mapper).tree().path("steps");
            JsonNode id = steps.path(refs.get(1).getIndex()).path("id");
            int named = 0;
            for (JsonNode step : steps) {
                named += id.equals(step.path("id")) ? 1 : 0;
            }
            if (id.isTextual() && !id.asText().isBlank() && named == 1) {   // two steps of one id are told apart by their index
                return DefinitionError.ofStep(file, id.asText(), jsonPath(refs.subList(2, refs.size())), message);
            }
        }
        return DefinitionError.ofWorkflow(file, jsonPath(refs), message);
    }

    /**
     * SnakeYAML's message, condensed to one line: its context lines with their positions, without the
     * source excerpt and caret lines. Null when {@code e} is not a YAML syntax error.
     */
    private static String yamlSyntaxProblem(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t.getClass().getName().contains("snakeyaml")) {
                List<String> parts = new ArrayList<>();
                for (String line : t.getMessage().split("\n")) {
                    Matcher position = YAML_POSITION.matcher(line);
                    if (position.find() && !parts.isEmpty()) {
                        int last = parts.size() - 1;
                        parts.set(last, parts.get(last) + " (line " + position.group(1) + ", column " + position.group(2) + ")");
                    } else if (!line.isBlank() && !Character.isWhitespace(line.charAt(0))) {
                        parts.add(line.trim());
                    }
                }
                return String.join(": ", parts);
            }
        }
        return null;
    }

    private static String describeType(Class<?> type) {
        if (type == Long.class || type == Integer.class || type == long.class || type == int.class) {
            return "an integer";
        }
        if (type == Boolean.class || type == boolean.class) {
            return "true or false";
        }
        if (type == String.class) {
            return "a string";
        }
        if (Collection.class.isAssignableFrom(type)) {
            return "a list";
        }
        return "a mapping";   // the model records and Map
    }

    /**
     * Where the first empty entry of a list or mapping is ({@code steps[1]}, {@code steps[0].depends_on[2]});
     * null when there is none or the content cannot be read. A {@code value} may be null: it is a JSON literal.
     */
    private static String firstEmptyEntry(String content, ObjectMapper mapper) {
        return firstEmptyEntry(Document.of(content, mapper).tree(), "");
    }

    private static String firstEmptyEntry(JsonNode node, String at) {
        if (node.isArray()) {
            for (int i = 0; i < node.size(); i++) {
                String found = node.get(i).isNull() ? at + "[" + i + "]" : firstEmptyEntry(node.get(i), at + "[" + i + "]");
                if (found != null) {
                    return found;
                }
            }
        } else if (node.isObject()) {
            for (java.util.Iterator<Map.Entry<String, JsonNode>> fields = node.fields(); fields.hasNext(); ) {
                Map.Entry<String, JsonNode> field = fields.next();
                String path = at.isEmpty() ? field.getKey() : at + "." + field.getKey();
                if (field.getKey().equals("value")) {
                    continue;
                }
                String found = field.getValue().isNull() ? path : firstEmptyEntry(field.getValue(), path);
                if (found != null) {
                    return found;
                }
            }
        }
        return null;
    }

    /** What the document holds at {@code path}, e.g. {@code "soon"} or {@code a list}, to show next to what was expected. */
    private static String describeFound(String content, ObjectMapper mapper, List<JsonMappingException.Reference> path) {
        JsonNode node = Document.of(content, mapper).tree();
        if (node.isMissingNode()) {
            return "something else";
        }
        for (JsonMappingException.Reference ref : path) {
            node = ref.getFieldName() != null ? node.path(ref.getFieldName()) : node.path(ref.getIndex());
        }
        if (node.isTextual()) {
            return "\"" + node.asText() + "\"";
        }
        if (node.isArray()) {
            return "a list";
        }
        if (node.isObject()) {
            return "a mapping";
        }
        return node.isMissingNode() || node.isNull() ? "nothing" : node.toString();
    }

    /**
     * Where in the text the refused value starts: found at its path (a read of the document's tree knows no lines,
     * and DefinitionReader reads it again past the fields it refused; an unknown field's own location is where the
     * read went on after it), else the read's location.
     */
    private static JsonLocation location(JsonMappingException e, String content, ObjectMapper mapper) {
        // an unknown field at its name (its value may start lines later), any other refused value where it starts
        JsonLocation found = locate(e.getPath(), e instanceof UnrecognizedPropertyException, content, mapper);
        return found != null ? found : e.getLocation();
    }

    private static JsonLocation locate(List<JsonMappingException.Reference> path, boolean atItsName, String content,
                                       ObjectMapper mapper) {
        Document document = Document.of(content, mapper);
        return (atItsName ? document.names() : document.values()).get(pointer(path));
    }

    /**
     * A document read once for every problem told of it (a file of thousands of steps and a hundred problems was read
     * hundreds of times): its tree, and where each field's name and each value start, by JSON pointer (a name where it
     * is first written; a value where it is last, the one a read keeps of a key given twice).
     */
    private record Document(String content, ObjectMapper mapper, JsonNode tree, Map<String, JsonLocation> names,
                            Map<String, JsonLocation> values, Map<String, Integer> stepIndexes) {
        /** The last document read: DefinitionReader describes one file's problems in a row. */
        private static final java.util.concurrent.atomic.AtomicReference<Document> LAST = new java.util.concurrent.atomic.AtomicReference<>();

        /** Its tree is a missing node when the content cannot be read as one; its locations go as far as it could be read. */
        static Document of(String content, ObjectMapper mapper) {
            Document last = LAST.get();
            if (last != null && last.content == content && last.mapper == mapper) {
                return last;
            }
            Map<String, JsonLocation> names = new java.util.HashMap<>();
            Map<String, JsonLocation> values = new java.util.HashMap<>();
            try (com.fasterxml.jackson.core.JsonParser parser = mapper.createParser(content)) {
                // a key given twice is a problem of its own: the fields after it have their places all the same
                parser.disable(com.fasterxml.jackson.core.JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
                for (com.fasterxml.jackson.core.JsonToken token = parser.nextToken(); token != null; token = parser.nextToken()) {
                    if (token == com.fasterxml.jackson.core.JsonToken.FIELD_NAME) {
                        names.putIfAbsent(parser.getParsingContext().pathAsPointer().toString(), parser.currentTokenLocation());
                    } else if (!token.isStructEnd()) {
                        // a mapping or list that starts here opened a context of its own: its path is its parent's
                        com.fasterxml.jackson.core.JsonStreamContext context = token.isStructStart()
                                ? parser.getParsingContext().getParent() : parser.getParsingContext();
                        // the last of a key given twice: the value a read keeps, which a problem with it names
                        values.put(context.pathAsPointer().toString(), parser.currentTokenLocation());
                    }
                }
            } catch (IOException | RuntimeException unreadable) {
                // the locations found before it
            }
            JsonNode tree;
            try (com.fasterxml.jackson.core.JsonParser parser = mapper.createParser(content)) {
                parser.disable(com.fasterxml.jackson.core.JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
                JsonNode read = mapper.readTree(parser);
                tree = read != null ? read : com.fasterxml.jackson.databind.node.MissingNode.getInstance();
            } catch (IOException | RuntimeException unreadable) {
                tree = com.fasterxml.jackson.databind.node.MissingNode.getInstance();
            }
            // each step id's place in steps, -1 for an id two steps have: read once for all the problems told of a file
            Map<String, Integer> stepIndexes = new java.util.HashMap<>();
            JsonNode steps = tree.path("steps");
            for (int i = 0; steps.isArray() && i < steps.size(); i++) {
                String id = steps.get(i).path("id").asText(null);
                if (id != null) {
                    stepIndexes.merge(id, i, (first, again) -> -1);
                }
            }
            Document read = new Document(content, mapper, tree, names, values, stepIndexes);
            LAST.set(read);
            return read;
        }
    }

    /**
     * Where a rule's problem is written: the value of its field ({@code config.timeout_ms} of its step), or, when that
     * is not written (a required field left out), the nearest mapping or list around it that is; its step when it
     * names no field. Empty when the file's step of that id cannot be told (none, or two) or the problem is the whole
     * file's. A key may hold dots ({@code input_mapping.candidate.email}): the longest key written is taken.
     */
    static String whereWritten(DefinitionError problem, String content, ObjectMapper mapper) {
        String field = problem.field() == null ? "" : problem.field();
        if (problem.stepId() == null && field.isEmpty()) {
            return "";
        }
        Document document = Document.of(content, mapper);
        JsonNode node = document.tree();
        StringBuilder pointer = new StringBuilder();
        if (problem.stepId() != null) {
            // none, or two steps of that id: which one is meant is not known
            int index = document.stepIndexes().getOrDefault(problem.stepId(), -1);
            if (index < 0) {
                return "";
            }
            pointer.append("/steps/").append(index);
            node = node.path("steps").get(index);
        }
        String written = pointer.toString();
        String rest = field;
        while (!rest.isEmpty() && node != null) {
            if (rest.startsWith("[")) {   // steps[3].agent, depends_on[1]
                int close = rest.indexOf(']');
                int index = close < 0 ? -1 : parseIndex(rest.substring(1, close));
                if (!node.isArray() || index < 0 || index >= node.size()) {
                    break;
                }
                pointer.append('/').append(index);
                node = node.get(index);
                rest = rest.substring(close + 1);
            } else {
                String key = longestKeyAtTheStartOf(node, rest);
                if (key == null) {
                    break;
                }
                pointer.append('/').append(key.replace("~", "~0").replace("/", "~1"));
                node = node.get(key);
                rest = rest.substring(key.length());
            }
            written = pointer.toString();
            if (rest.startsWith(".")) {
                rest = rest.substring(1);
            }
        }
        if (rest.isEmpty() && node != null && node.isArray()) {   // depends_on: "ghost" is not a step: at "ghost" in the list
            java.util.regex.Matcher named = Pattern.compile("^\"([^\"]*)\"").matcher(problem.message());
            for (int i = 0; named.find(0) && i < node.size(); i++) {
                if (node.get(i).isTextual() && node.get(i).asText().equals(named.group(1))) {
                    written = written + "/" + i;
                    break;
                }
            }
        }
        // "" is the workflow's own mapping: a field of its own left out (its name) is told there, as a step's is at the step
        return at(document.values().get(written));
    }

    private static int parseIndex(String digits) {
        return digits.matches("[0-9]{1,9}") ? Integer.parseInt(digits) : -1;
    }

    /** The longest key of {@code node} that {@code path} starts with, up to a '.' or '[' or its end; null for none. */
    private static String longestKeyAtTheStartOf(JsonNode node, String path) {
        if (!node.isObject()) {
            return null;
        }
        String longest = null;
        for (java.util.Iterator<String> names = node.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            boolean whole = path.startsWith(name) && (path.length() == name.length()
                    || path.charAt(name.length()) == '.' || path.charAt(name.length()) == '[');
            if (whole && (longest == null || name.length() > longest.length())) {
                longest = name;
            }
        }
        return longest;
    }

    /** The JSON pointer ({@code /steps/2/retry_count}) of Jackson's reference chain. */
    private static String pointer(List<JsonMappingException.Reference> path) {
        StringBuilder pointer = new StringBuilder();
        for (JsonMappingException.Reference ref : path) {
            pointer.append('/').append(ref.getFieldName() != null
                    ? ref.getFieldName().replace("~", "~0").replace("/", "~1") : Integer.toString(ref.getIndex()));
        }
        return pointer.toString();
    }

    private static String at(JsonLocation location) {
        return location == null || location.getLineNr() < 0 ? "" : " (line " + location.getLineNr() + ", column " + location.getColumnNr() + ")";
    }

    /**
     * Where the first alias of {@code anchor} is written (the parser that refuses it gives no location): not in a
     * comment or a quoted string.
     */
    private static String aliasAt(String content, String anchor) {
        Matcher alias = Pattern.compile("(?<![\\w&*])\\*" + Pattern.quote(anchor) + "(?![\\w-])").matcher(content);
        while (alias.find()) {
            int lineStart = content.lastIndexOf('\n', alias.start()) + 1;
            String before = content.substring(lineStart, alias.start());
            boolean inComment = before.startsWith("#") || before.contains(" #");
            boolean quoted = before.chars().filter(c -> c == '"').count() % 2 == 1 || before.chars().filter(c -> c == '\'').count() % 2 == 1;
            if (!inComment && !quoted) {
                long line = content.substring(0, lineStart).chars().filter(c -> c == '\n').count() + 1;
                return " (line " + line + ", column " + (alias.start() - lineStart + 1) + ")";
            }
        }
        return "";
    }

    /**
     * Whether the key given twice at {@code duplicate} sits in a mapping that merges another in ({@code <<}): on its
     * own line (a flow mapping), or on a line above it at its indentation before the mapping ends.
     */
    private static boolean besideAMerge(String content, JsonLocation duplicate) {
        if (duplicate == null || duplicate.getLineNr() < 1) {
            return false;
        }
        List<String> lines = content.lines().toList();
        int at = duplicate.getLineNr() - 1;
        if (at >= lines.size()) {
            return false;
        }
        String keyLine = lines.get(at);
        int indent = indentOf(keyLine);
        if (keyLine.substring(0, Math.min(keyLine.length(), Math.max(0, duplicate.getColumnNr() - 1))).contains("<<")) {
            return true;
        }
        for (int i = at - 1; i >= 0; i--) {
            String line = lines.get(i);
            if (line.isBlank() || line.trim().startsWith("#")) {
                continue;
            }
            if (indentOf(line) < indent) {
                return false;
            }
            if (indentOf(line) == indent && line.trim().startsWith("<<")) {
                return true;
            }
        }
        return false;
    }

    private static int indentOf(String line) {
        int spaces = 0;
        while (spaces < line.length() && (line.charAt(spaces) == ' ' || line.charAt(spaces) == '-')) {
            spaces++;
        }
        return spaces;
    }

    private static String firstLine(String message) {
        if (message == null) {
            return "invalid";
        }
        int nl = message.indexOf('\n');
        return (nl < 0 ? message : message.substring(0, nl)).trim();
    }

    /** {@code steps[2].config} from Jackson's reference chain. */
    static String jsonPath(List<JsonMappingException.Reference> path) {
        StringBuilder s = new StringBuilder();
        for (JsonMappingException.Reference ref : path) {
            if (ref.getFieldName() != null) {
                if (!s.isEmpty()) {
                    s.append('.');
                }
                s.append(ref.getFieldName());
            } else if (ref.getIndex() >= 0) {
                s.append('[').append(ref.getIndex()).append(']');
            }
        }
        return s.isEmpty() ? null : s.toString();
    }

    /** The fields of the object that holds the unknown one (none when the document cannot be read as a tree). */
    private static java.util.Set<String> fieldsBeside(String content, com.fasterxml.jackson.databind.ObjectMapper mapper,
                                                      List<JsonMappingException.Reference> refs) {
        JsonNode node = Document.of(content, mapper).tree();
        for (JsonMappingException.Reference ref : refs.subList(0, Math.max(0, refs.size() - 1))) {
            node = ref.getFieldName() != null ? node.path(ref.getFieldName()) : node.path(ref.getIndex());
        }
        java.util.Set<String> names = new java.util.HashSet<>();
        node.fieldNames().forEachRemaining(names::add);
        return names;
    }

    /**
     * ": did you mean "from_trigger"?" for a field at most two edits from a known one ({@code from_triger}), or the
     * start of one ({@code timeout} for {@code timeout_ms}), else "".
     */
    private static String closest(String field, java.util.Collection<Object> known, java.util.Set<String> present) {
        if (known == null) {
            return "";
        }
        String typed = field.toLowerCase(java.util.Locale.ROOT);
        java.util.Optional<String> close = Spelling.closest(typed, known.stream().map(String::valueOf).toList(), 2);
        if (close.isEmpty() && typed.length() >= 4) {
            List<String> starting = known.stream().map(String::valueOf).filter(name -> name.startsWith(typed)).toList();
            close = starting.size() == 1 ? java.util.Optional.of(starting.get(0)) : java.util.Optional.empty();   // from: several
        }
        return close.filter(name -> !present.contains(name)).map(name -> ": did you mean \"" + name + "\"?").orElse("");
    }
}
