package dev.agentcoordinator.definition;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Parses one definition file (YAML or JSON) into a {@link WorkflowDefinition}, strictly: unknown
 * fields, duplicate keys, "12" for a number and 1.5 for an integer are errors that name the JSON path.
 * Only the shape is checked here; the rules are {@link DefinitionValidator}'s.
 */
public final class DefinitionReader {
    /**
     * Only true and false are booleans (YAML 1.2): YAML 1.1 also reads yes, no, on and off so, and a
     * condition's {@code value: yes} would never equal an agent's "yes".
     */
    private static final ObjectMapper YAML = strict(YAMLMapper.builder()
            .enable(com.fasterxml.jackson.dataformat.yaml.YAMLParser.Feature.PARSE_BOOLEAN_LIKE_WORDS_AS_STRINGS));
    private static final ObjectMapper JSON = strict(JsonMapper.builder());

    private static <M extends ObjectMapper, B extends com.fasterxml.jackson.databind.cfg.MapperBuilder<M, B>> M strict(B builder) {
        return builder
                .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
                .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
                .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
                .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
                .build();
    }

    /** Whether {@code file} has a definition extension (.yaml, .yml, .json). */
    public static boolean isDefinitionFile(Path file) {
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        return name.endsWith(".yaml") || name.endsWith(".yml") || name.endsWith(".json");
    }

    public LoadedDefinition read(Path file) throws DefinitionReadException {
        return strictly(readNotingUnknownFields(file));
    }

    /** Parses {@code content}; JSON when {@code fileName} ends with .json, YAML otherwise. */
    public LoadedDefinition read(String fileName, String content) throws DefinitionReadException {
        return strictly(readNotingUnknownFields(fileName, content));
    }

    /**
     * A definition read past its unknown fields, with one error for each: the catalog validates it all the
     * same, so that a file is told every problem at once (an unknown field hid the rest until it was fixed).
     */
    public record Read(LoadedDefinition loaded, List<DefinitionError> unknownFields) {
    }

    public Read readNotingUnknownFields(Path file) throws DefinitionReadException {
        String name = file.getFileName().toString();
        String content;
        try {
            content = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new DefinitionReadException(DefinitionError.ofWorkflow(name, null, "cannot read file: " + e), e);
        }
        return readNotingUnknownFields(name, content);
    }

    public Read readNotingUnknownFields(String fileName, String content) throws DefinitionReadException {
        if (content.startsWith("\uFEFF")) {   // a byte order mark, as some editors save UTF-8: not part of the document
            content = content.substring(1);
        }
        ObjectMapper mapper = fileName.toLowerCase(Locale.ROOT).endsWith(".json") ? JSON : YAML;
        if (content.isBlank()) {
            throw new DefinitionReadException(DefinitionError.ofWorkflow(fileName, null, "file is empty"), null);
        }
        try {
            return new Read(loaded(fileName, mapper.readValue(content, WorkflowDefinition.class)), List.of());
        } catch (UnrecognizedPropertyException first) {
            List<DefinitionError> unknown = unknownFields(fileName, content, mapper, first);
            try {
                WorkflowDefinition past = mapper.readerFor(WorkflowDefinition.class)
                        .without(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES).readValue(content);
                return new Read(loaded(fileName, past), unknown);
            } catch (JsonProcessingException other) {   // and a problem of another kind: both told
                List<DefinitionError> all = new ArrayList<>(unknown);
                all.add(ParseErrorDescriber.describe(fileName, content, mapper, other));
                throw new DefinitionReadException(all, first);
            }
        } catch (JsonProcessingException e) {
            throw new DefinitionReadException(ParseErrorDescriber.describe(fileName, content, mapper, e), e);
        }
    }

    private static LoadedDefinition loaded(String fileName, WorkflowDefinition definition) throws DefinitionReadException {
        if (definition == null) {
            throw new DefinitionReadException(DefinitionError.ofWorkflow(fileName, null, "file holds no workflow (null document)"), null);
        }
        return new LoadedDefinition(fileName, definition);
    }

    private static LoadedDefinition strictly(Read read) throws DefinitionReadException {
        if (!read.unknownFields().isEmpty()) {
            throw new DefinitionReadException(read.unknownFields(), null);
        }
        return read.loaded();
    }

    /**
     * Every unknown field of the file, each as a strict read refuses it (same message and path): the strict
     * read runs again on the document's tree with the fields found so far taken out, until it finds no more.
     */
    private static List<DefinitionError> unknownFields(String fileName, String content, ObjectMapper mapper,
                                                       UnrecognizedPropertyException first) {
        List<DefinitionError> found = new ArrayList<>();
        found.add(ParseErrorDescriber.describe(fileName, content, mapper, first));
        JsonNode tree;
        try {
            tree = mapper.readTree(content);
        } catch (JsonProcessingException unreadable) {
            return found;
        }
        UnrecognizedPropertyException next = first;
        for (int fields = 0; next != null && fields < MAX_UNKNOWN_FIELDS && takeOut(tree, next); fields++) {
            next = null;
            try (JsonParser again = mapper.treeAsTokens(tree)) {
                mapper.readValue(again, WorkflowDefinition.class);
            } catch (UnrecognizedPropertyException another) {
                found.add(ParseErrorDescriber.describe(fileName, content, mapper, another));
                next = another;
            } catch (IOException otherKind) {
                // not an unknown field: the read of the text tells it, with its line
            }
        }
        return found;
    }

    private static final int MAX_UNKNOWN_FIELDS = 100;

    /** Removes the refused field from the tree; false when its path does not lead to it. */
    private static boolean takeOut(JsonNode tree, UnrecognizedPropertyException refused) {
        List<JsonMappingException.Reference> path = refused.getPath();
        JsonNode at = tree;
        for (JsonMappingException.Reference step : path.subList(0, Math.max(0, path.size() - 1))) {
            at = step.getFieldName() != null ? at.get(step.getFieldName()) : at.get(step.getIndex());
            if (at == null) {
                return false;
            }
        }
        return at instanceof ObjectNode holder && holder.remove(refused.getPropertyName()) != null;
    }
}
