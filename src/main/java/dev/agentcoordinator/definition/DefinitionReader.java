package dev.agentcoordinator.definition;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.exc.InputCoercionException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLAnchorReplayingFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.agentcoordinator.text.Utf8;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Parses one definition file (YAML or JSON) into a {@link WorkflowDefinition}, strictly: unknown
 * fields, duplicate keys, "12" for a number and 1.5 for an integer are errors that name the JSON path.
 * Only the shape is checked here; the rules are {@link DefinitionValidator}'s.
 */
public final class DefinitionReader {
    /**
     * A workflow's own fields whose names start with {@code x-} are the author's (as docker-compose's): read past, so
     * that anchors can live there ({@code x-patient: &patient {retry_count: 3}}), not in the first step that uses them.
     */
    private static final com.fasterxml.jackson.databind.deser.DeserializationProblemHandler EXTENSION_FIELDS =
            new com.fasterxml.jackson.databind.deser.DeserializationProblemHandler() {
                @Override
                public boolean handleUnknownProperty(com.fasterxml.jackson.databind.DeserializationContext context, JsonParser parser,
                                                     com.fasterxml.jackson.databind.JsonDeserializer<?> deserializer,
                                                     Object beanOrClass, String field) throws IOException {
                    boolean ofTheWorkflow = beanOrClass == WorkflowDefinition.class || beanOrClass instanceof WorkflowDefinition;
                    if (ofTheWorkflow && field.startsWith(EXTENSION_PREFIX)) {
                        parser.skipChildren();
                        return true;
                    }
                    return false;
                }
            };

    /** The start of a workflow field's name that the reader passes over (see {@link #EXTENSION_FIELDS}). */
    private static final String EXTENSION_PREFIX = "x-";

    /**
     * Only true and false are booleans (YAML 1.2): YAML 1.1 also reads yes, no, on and off so, and a
     * condition's {@code value: yes} would never equal an agent's "yes". Anchors and aliases ({@code &retry},
     * {@code *retry}, and merge keys {@code <<: *retry}) read as the anchored value written out again, as YAML
     * means them: Jackson's plain YAML parser reads an alias as the string of its anchor's name.
     */
    private static final ObjectMapper YAML = strict(YAMLMapper.builder(new YAMLAnchorReplayingFactory())
            .enable(com.fasterxml.jackson.dataformat.yaml.YAMLParser.Feature.PARSE_BOOLEAN_LIKE_WORDS_AS_STRINGS));
    private static final ObjectMapper JSON = strict(JsonMapper.builder());
    /** The trees a key given twice is read past with (the last value kept, as the describer's scan reads it). */
    private static final ObjectMapper YAML_TREES = YAMLMapper.builder(new YAMLAnchorReplayingFactory())
            .enable(com.fasterxml.jackson.dataformat.yaml.YAMLParser.Feature.PARSE_BOOLEAN_LIKE_WORDS_AS_STRINGS).build();
    private static final ObjectMapper JSON_TREES = JsonMapper.builder().build();

    private static <M extends ObjectMapper, B extends com.fasterxml.jackson.databind.cfg.MapperBuilder<M, B>> M strict(B builder) {
        return builder
                .addHandler(EXTENSION_FIELDS)
                .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
                .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
                .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
                .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
                // a number or a boolean where text belongs ("onFailure: true", "action: 1.50") was read as its text,
                // and an onFailure event of type "true" sent: told as a value of the wrong type, as other fields' are
                .withCoercionConfig(com.fasterxml.jackson.databind.type.LogicalType.Textual, textual -> textual
                        .setCoercion(com.fasterxml.jackson.databind.cfg.CoercionInputShape.Integer, com.fasterxml.jackson.databind.cfg.CoercionAction.Fail)
                        .setCoercion(com.fasterxml.jackson.databind.cfg.CoercionInputShape.Float, com.fasterxml.jackson.databind.cfg.CoercionAction.Fail)
                        .setCoercion(com.fasterxml.jackson.databind.cfg.CoercionInputShape.Boolean, com.fasterxml.jackson.databind.cfg.CoercionAction.Fail))
                .build();
    }

    /**
     * The longest YAML document read, in code points: the YAML reader's own bound (SnakeYAML's {@code codePointLimit}), told
     * before it reads. It tells it only once it got there, after a scan whose time grows with the square of a long value's
     * length: a 4 MB file took 20 s to be refused, 48 s in a reload, and a 58 MB one did not finish in 300 s. A JSON
     * definition has the same bound: one of hundreds of megabytes was read whole into the heap, twice its size as text.
     */
    static final int MAX_YAML_CODE_POINTS = 3 * 1024 * 1024;

    private static String tooLong(String size) {
        return String.format(Locale.ROOT, "file is %s long: a definition is at most %,d characters (the YAML reader's limit, for JSON too)",
                size, MAX_YAML_CODE_POINTS);
    }

    /** Whether {@code file} has a definition extension (.yaml, .yml, .json). */
    public static boolean isDefinitionFile(Path file) {
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        return name.endsWith(".yaml") || name.endsWith(".yml") || name.endsWith(".json");
    }

    public LoadedDefinition read(Path file) throws DefinitionReadException {
        return strictly(readNotingFieldProblems(file));
    }

    /** Parses {@code content}; JSON when {@code fileName} ends with .json, YAML otherwise. */
    public LoadedDefinition read(String fileName, String content) throws DefinitionReadException {
        return strictly(readNotingFieldProblems(fileName, content));
    }

    /**
     * A definition read past its unknown fields and its values of the wrong type, with one problem for each
     * ({@code problems}): the catalog validates it all the same, so that a file is told every problem at once (the
     * first such field hid the rest until it was fixed). A wrong value is read as if it were not there, and the
     * problems the rules find at its place in its step ({@code wrongFieldsByStep}: step id to the fields, such as
     * {@code config.retry_count}, see {@link WrongFields}) are not told: they may follow from it.
     */
    public record Read(LoadedDefinition loaded, List<DefinitionError> problems, Map<String, Set<String>> wrongFieldsByStep,
                       String content, ObjectMapper mapper) {
        /** {@code problem}, a rule's problem with this file, told with where it is written ({@code (line 12, column 9)}). */
        public DefinitionError located(DefinitionError problem) {
            String where = ParseErrorDescriber.whereWritten(problem, content, mapper);
            return where.isEmpty() ? problem : new DefinitionError(problem.file(), problem.stepId(), problem.field(), problem.message() + where);
        }
    }

    public Read readNotingFieldProblems(Path file) throws DefinitionReadException {
        String name = file.getFileName().toString();
        String content;
        try {
            long bytes = Files.size(file);
            if (bytes > 4L * MAX_YAML_CODE_POINTS) {   // not read at all
                throw new DefinitionReadException(DefinitionError.ofWorkflow(name, null, tooLong(String.format(Locale.ROOT,
                        "%,d bytes", bytes))), null);
            }
            content = utf8(name, Files.readAllBytes(file));
        } catch (IOException e) {
            throw new DefinitionReadException(DefinitionError.ofWorkflow(name, null, "cannot read file: " + e), e);
        }
        return readNotingFieldProblems(name, content);
    }

    /** The file's text; a file saved as Latin-1 or UTF-16 is told with its first byte that is not UTF-8 and where it is. */
    private static String utf8(String name, byte[] bytes) throws DefinitionReadException {
        try {
            return Utf8.decode(bytes, Integer.MAX_VALUE);
        } catch (Utf8.NotUtf8Exception e) {
            int lineStart = 0;
            int line = 1;
            for (int i = 0; i < e.offset(); i++) {
                if (bytes[i] == '\n') {
                    line++;
                    lineStart = i + 1;
                }
            }
            String before = new String(bytes, lineStart, e.offset() - lineStart, StandardCharsets.UTF_8);   // UTF-8 up to there
            throw new DefinitionReadException(DefinitionError.ofWorkflow(name, null, "file is " + e.getMessage() + " (line " + line
                    + ", column " + (before.codePointCount(0, before.length()) + 1) + "): save it as UTF-8"), null);
        }
    }

    public Read readNotingFieldProblems(String fileName, String content) throws DefinitionReadException {
        if (content.startsWith("\uFEFF")) {   // a byte order mark, as some editors save UTF-8: not part of the document
            content = content.substring(1);
        }
        ObjectMapper mapper = fileName.toLowerCase(Locale.ROOT).endsWith(".json") ? JSON : YAML;
        if (content.length() > MAX_YAML_CODE_POINTS
                && content.codePointCount(0, content.length()) > MAX_YAML_CODE_POINTS) {
            throw new DefinitionReadException(DefinitionError.ofWorkflow(fileName, null, tooLong(String.format(Locale.ROOT,
                    "%,d characters", content.codePointCount(0, content.length())))), null);
        }
        if (content.isBlank()) {
            throw new DefinitionReadException(DefinitionError.ofWorkflow(fileName, null, "file is empty"), null);
        }
        if (mapper == YAML && content.lines().map(String::strip).allMatch(line -> line.isEmpty() || line.startsWith("#"))) {
            // read as no document, which Jackson tells as "expected a mapping, found something else"
            throw new DefinitionReadException(DefinitionError.ofWorkflow(fileName, null, "file holds only comments: no workflow"), null);
        }
        if (mapper == YAML) {
            java.util.Optional<String> aliasInAnchor = AliasesInAnchors.find(content);
            if (aliasInAnchor.isPresent()) {
                throw new DefinitionReadException(DefinitionError.ofWorkflow(fileName, null, aliasInAnchor.get()), null);
            }
        }
        try {
            return new Read(loaded(fileName, mapper.readValue(content, WorkflowDefinition.class)), List.of(), Map.of(), content, mapper);
        } catch (JsonMappingException first) {
            if (!isRefusedField(first)) {
                throw new DefinitionReadException(ParseErrorDescriber.describe(fileName, content, mapper, first), first);
            }
            return readPastWrongFields(fileName, content, mapper, first);
        } catch (JsonProcessingException e) {
            throw new DefinitionReadException(withProblemsPastADuplicateKey(
                    ParseErrorDescriber.describe(fileName, content, mapper, e), fileName, content, mapper, e), e);
        }
    }

    /**
     * A key given twice ({@code told}, the strict read's first problem) and the unknown fields and values of the wrong
     * type after it, read on the document with the key's last value: a duplicate no longer hides the rest of the file's
     * problems. Only {@code told} for any other syntax error, or when the rest cannot be read.
     */
    private static List<DefinitionError> withProblemsPastADuplicateKey(DefinitionError told, String fileName, String content,
                                                                       ObjectMapper mapper, JsonProcessingException e) {
        List<DefinitionError> problems = new ArrayList<>(List.of(told));
        if (e.getOriginalMessage() == null || !e.getOriginalMessage().startsWith("Duplicate field")) {
            return problems;
        }
        JsonNode tree;
        try {
            tree = (mapper == JSON ? JSON_TREES : YAML_TREES).readTree(content);
        } catch (JsonProcessingException unreadable) {
            return problems;
        }
        try (JsonParser again = mapper.treeAsTokens(tree)) {
            mapper.readValue(again, WorkflowDefinition.class);
        } catch (JsonMappingException refused) {
            if (!isRefusedField(refused)) {
                problems.add(ParseErrorDescriber.describe(fileName, content, mapper, refused));
                return problems;
            }
            List<DefinitionError> more = new ArrayList<>(List.of(ParseErrorDescriber.describe(fileName, content, mapper, refused)));
            try {
                problems.addAll(readPast(fileName, content, mapper, refused, more, tree).problems());
            } catch (DefinitionReadException past) {
                problems.addAll(past.errors());
            }
        } catch (IOException unreadable) {
            return problems;
        }
        return problems;
    }

    /**
     * The strict read again and again on the document's tree, each field it refused taken out (an unknown field, or one
     * whose value has the wrong type; a list's wrong entry is replaced by an empty one of the right kind, so that the
     * entries after it keep their index), until it reads: every such field is told, each as the strict read told it.
     * The rules are then checked past them only when every wrong value sat in a step with an id of its own and was not
     * one the other steps depend on (its id or depends_on): that step's rule problems are left out (they may follow from
     * the missing value, at the place it was: {@link WrongFields}). Otherwise (a wrong value of the workflow's own, such as {@code config.timeout_ms}, which the
     * steps' timeouts are checked against) the rules would find problems that are not there: the file is out.
     */
    private static Read readPastWrongFields(String fileName, String content, ObjectMapper mapper, JsonMappingException first)
            throws DefinitionReadException {
        List<DefinitionError> problems = new ArrayList<>();
        problems.add(ParseErrorDescriber.describe(fileName, content, mapper, first));
        JsonNode tree;
        try {
            tree = mapper.readTree(content);
        } catch (JsonProcessingException unreadable) {
            // a key given twice or a syntax error further down: told as well, after the value the strict read refused
            // before it, unless that value could not be read either (a broken mapping read as a value of the wrong type)
            problems.removeIf(problem -> problem.message().contains("found something else"));
            problems.add(ParseErrorDescriber.describe(fileName, content, mapper, unreadable));
            throw new DefinitionReadException(problems, first);
        }
        return readPast(fileName, content, mapper, first, problems, tree);
    }

    /** {@link #readPastWrongFields} on the document's tree, {@code problems} holding what the first refused field told. */
    private static Read readPast(String fileName, String content, ObjectMapper mapper, JsonMappingException first,
                                 List<DefinitionError> problems, JsonNode tree) throws DefinitionReadException {
        Map<Integer, Set<String>> wrongFields = new TreeMap<>();   // by the step's index
        boolean rulesApply = true;
        WorkflowDefinition named = null;   // read past its refused fields, its own rules not checkable
        JsonMappingException refused = first;
        for (int fields = 0; fields < MAX_REFUSED_FIELDS; fields++) {
            List<JsonMappingException.Reference> removed = takeOut(tree, refused);
            if (removed == null) {
                break;
            }
            if (!(refused instanceof UnrecognizedPropertyException)) {
                if (inAStep(removed) && !othersDependOn(removed)) {
                    wrongFields.computeIfAbsent(removed.get(1).getIndex(), i -> new TreeSet<>()).add(WrongFields.inTheStep(removed, null));
                } else {
                    rulesApply = false;
                }
            } else if (standsForAField(problems.get(problems.size() - 1))) {
                // a misspelt field is as good as missing: as for a wrong value, but for one in a mapping of a step (whose
                // problems WorkflowCatalog.followsFromAnUnknownField tells apart more closely)
                boolean ofTheStep = inAStep(removed) && (removed.size() == 3
                        || removed.size() == 4 && "config".equals(removed.get(2).getFieldName()));
                String told = problems.get(problems.size() - 1).message();
                boolean dependedOn = told.matches(".*did you mean \"(id|depends_on)\"\\?$");
                if (ofTheStep && !dependedOn) {
                    wrongFields.computeIfAbsent(removed.get(1).getIndex(), i -> new TreeSet<>())
                            .add(WrongFields.inTheStep(removed, told.substring(told.lastIndexOf("did you mean \"") + 14, told.length() - 2)));
                } else if (ofTheStep || !inAStep(removed)) {
                    rulesApply = false;
                }
            }
            try (JsonParser again = mapper.treeAsTokens(tree)) {
                WorkflowDefinition past = mapper.readValue(again, WorkflowDefinition.class);
                Map<String, Set<String>> wrongSteps = byId(past, wrongFields);
                if (!rulesApply || wrongSteps == null) {
                    named = past;
                    break;
                }
                return new Read(loaded(fileName, past), problems, wrongSteps, content, mapper);
            } catch (JsonMappingException another) {
                problems.add(ParseErrorDescriber.describe(fileName, content, mapper, another));
                if (!isRefusedField(another)) {
                    break;
                }
                refused = another;
            } catch (JsonProcessingException otherKind) {
                problems.add(ParseErrorDescriber.describe(fileName, content, mapper, otherKind));
                break;
            } catch (IOException unreadable) {
                break;
            }
        }
        if (problems.size() > MAX_REFUSED_FIELDS) {
            problems.add(DefinitionError.ofWorkflow(fileName, null, "the reading stopped after " + MAX_REFUSED_FIELDS
                    + " unknown fields and values of the wrong type: the file may have more"));
        }
        throw new DefinitionReadException(problems, first, named == null ? null : loaded(fileName, named));
    }

    private static final int MAX_REFUSED_FIELDS = 100;

    /**
     * A field the strict read refused on its own (unknown, of the wrong type, or a number out of its type's range), which
     * the document can be read again without; not a null entry or a syntax error.
     */
    private static boolean isRefusedField(JsonMappingException e) {
        return !e.getPath().isEmpty() && (e instanceof MismatchedInputException || e.getCause() instanceof InputCoercionException);
    }

    /** Whether an unknown field's problem names the field it may stand for. */
    private static boolean standsForAField(DefinitionError unknownField) {
        return unknownField.message().contains(": did you mean \"");
    }

    /** Whether {@code field} lies inside one step ({@code steps[i].<field>…}), not the step entry itself. */
    private static boolean inAStep(List<JsonMappingException.Reference> field) {
        return field.size() >= 3 && "steps".equals(field.get(0).getFieldName()) && field.get(1).getFieldName() == null
                && field.get(2).getFieldName() != null;
    }

    /** A step's fields other steps depend on: read without them, the rules would find problems elsewhere that are not there. */
    private static boolean othersDependOn(List<JsonMappingException.Reference> field) {
        return List.of("id", "depends_on").contains(field.get(2).getFieldName());
    }

    /** {@code byIndex} by the steps' ids; null when one has no id, or shares it (its problems could not be told apart). */
    private static Map<String, Set<String>> byId(WorkflowDefinition workflow, Map<Integer, Set<String>> byIndex) {
        Map<String, Set<String>> ids = new java.util.HashMap<>();
        for (Map.Entry<Integer, Set<String>> fields : byIndex.entrySet()) {
            int index = fields.getKey();
            if (workflow == null || index < 0 || index >= workflow.steps().size()) {
                return null;
            }
            String id = workflow.steps().get(index).id();
            if (id == null || id.isBlank() || workflow.steps().stream().filter(step -> id.equals(step.id())).count() != 1) {
                return null;
            }
            ids.put(id, Set.copyOf(fields.getValue()));
        }
        return ids;
    }

    /**
     * Takes the field the read refused out of the tree: an unknown field, or the field that holds a value of the wrong
     * type; a list's entry is replaced by an empty value of the kind expected. Its path (to the entry, for a list's
     * entry), or null when there is none (the document itself).
     */
    private static List<JsonMappingException.Reference> takeOut(JsonNode tree, JsonMappingException refused) {
        List<JsonMappingException.Reference> path = refused.getPath();
        if (path.isEmpty()) {
            return null;
        }
        JsonNode holder = at(tree, path.subList(0, path.size() - 1));
        JsonMappingException.Reference last = path.get(path.size() - 1);
        if (refused instanceof UnrecognizedPropertyException unknown) {
            return holder instanceof ObjectNode object && object.remove(unknown.getPropertyName()) != null ? path : null;
        }
        if (last.getFieldName() == null && holder instanceof com.fasterxml.jackson.databind.node.ArrayNode list
                && last.getIndex() >= 0 && last.getIndex() < list.size()) {
            list.set(last.getIndex(), emptyOf(refused instanceof MismatchedInputException m ? m.getTargetType() : null));
            return List.copyOf(path);
        }
        return holder instanceof ObjectNode object && last.getFieldName() != null && object.remove(last.getFieldName()) != null
                ? List.copyOf(path) : null;
    }

    /** An empty value of the kind {@code type} is read from: "", 0, false, [] or {}. */
    private static JsonNode emptyOf(Class<?> type) {
        com.fasterxml.jackson.databind.node.JsonNodeFactory nodes = com.fasterxml.jackson.databind.node.JsonNodeFactory.instance;
        if (type == null) {
            return nodes.objectNode();
        }
        if (type == String.class) {
            return nodes.textNode("");
        }
        if (Number.class.isAssignableFrom(type) || type == int.class || type == long.class) {
            return nodes.numberNode(0);
        }
        if (type == Boolean.class || type == boolean.class) {
            return nodes.booleanNode(false);
        }
        if (java.util.Collection.class.isAssignableFrom(type)) {
            return nodes.arrayNode();
        }
        return nodes.objectNode();
    }

    private static JsonNode at(JsonNode tree, List<JsonMappingException.Reference> path) {
        JsonNode at = tree;
        for (JsonMappingException.Reference step : path) {
            at = step.getFieldName() != null ? at.get(step.getFieldName()) : at.get(step.getIndex());
            if (at == null) {
                return null;
            }
        }
        return at;
    }

    private static LoadedDefinition loaded(String fileName, WorkflowDefinition definition) throws DefinitionReadException {
        if (definition == null) {
            throw new DefinitionReadException(DefinitionError.ofWorkflow(fileName, null, "file holds no workflow (null document)"), null);
        }
        // what PostgreSQL cannot store as written: U+0000 (a YAML "\0": the definition's recording failed with a 500), an
        // unpaired surrogate (kept as "?"), a literal over a double's range (1e400: sent to agents as the string "Infinity")
        String unstorable = dev.agentcoordinator.engine.Json.unstorable(dev.agentcoordinator.engine.Json.MAPPER.valueToTree(definition));
        if (unstorable != null) {
            throw new DefinitionReadException(DefinitionError.ofWorkflow(fileName, null, "the definition " + unstorable), null);
        }
        return new LoadedDefinition(fileName, definition);
    }

    private static LoadedDefinition strictly(Read read) throws DefinitionReadException {
        if (!read.problems().isEmpty()) {
            throw new DefinitionReadException(read.problems(), null);
        }
        return read.loaded();
    }
}
