package dev.agentcoordinator.definition;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.exc.ValueInstantiationException;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * Parses one definition file (YAML or JSON) into a {@link WorkflowDefinition}, strictly: unknown
 * fields, duplicate keys, "12" for a number and 1.5 for an integer are errors that name the JSON path.
 * Only the shape is checked here; the rules are {@link DefinitionValidator}'s.
 */
public final class DefinitionReader {
    private static final ObjectMapper YAML = strict(YAMLMapper.builder());
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
        String name = file.getFileName().toString();
        String content;
        try {
            content = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new DefinitionReadException(DefinitionError.ofWorkflow(name, null, "cannot read file: " + e), e);
        }
        return read(name, content);
    }

    /** Parses {@code content}; JSON when {@code fileName} ends with .json, YAML otherwise. */
    public LoadedDefinition read(String fileName, String content) throws DefinitionReadException {
        ObjectMapper mapper = fileName.toLowerCase(Locale.ROOT).endsWith(".json") ? JSON : YAML;
        if (content.isBlank()) {
            throw new DefinitionReadException(DefinitionError.ofWorkflow(fileName, null, "file is empty"), null);
        }
        try {
            WorkflowDefinition definition = mapper.readValue(content, WorkflowDefinition.class);
            if (definition == null) {
                throw new DefinitionReadException(DefinitionError.ofWorkflow(fileName, null, "file holds no workflow (null document)"), null);
            }
            return new LoadedDefinition(fileName, definition);
        } catch (JsonProcessingException e) {
            throw new DefinitionReadException(describe(fileName, e), e);
        }
    }

    private static DefinitionError describe(String file, JsonProcessingException e) {
        if (e instanceof UnrecognizedPropertyException u) {
            List<JsonMappingException.Reference> path = u.getPath();
            String known = u.getKnownPropertyIds() == null ? "" : u.getKnownPropertyIds().stream()
                    .map(String::valueOf).sorted().collect(Collectors.joining(", ", " (known fields: ", ")"));
            return DefinitionError.ofWorkflow(file, jsonPath(path.subList(0, Math.max(0, path.size() - 1))),
                    "unknown field \"" + u.getPropertyName() + "\"" + known);
        }
        if (e instanceof ValueInstantiationException v) {
            String why = v.getCause() instanceof NullPointerException
                    ? "contains an empty (null) entry" : firstLine(v.getCause() == null ? v.getOriginalMessage() : v.getCause().getMessage());
            return DefinitionError.ofWorkflow(file, jsonPath(v.getPath()), why);
        }
        if (e instanceof MismatchedInputException m) {
            String type = m.getTargetType() == null ? "value" : m.getTargetType().getSimpleName();
            return DefinitionError.ofWorkflow(file, jsonPath(m.getPath()),
                    "wrong type, expected " + describeType(type) + at(m.getLocation()) + ": " + firstLine(m.getOriginalMessage()));
        }
        if (e instanceof JsonMappingException m) {
            return DefinitionError.ofWorkflow(file, jsonPath(m.getPath()), firstLine(m.getOriginalMessage()) + at(m.getLocation()));
        }
        return DefinitionError.ofWorkflow(file, null, "syntax error" + at(e.getLocation()) + ": " + firstLine(e.getOriginalMessage()));
    }

    private static String describeType(String javaType) {
        return switch (javaType) {
            case "Long", "Integer", "long", "int" -> "an integer";
            case "Boolean", "boolean" -> "true or false";
            case "String" -> "a string";
            case "List", "ArrayList" -> "a list";
            case "Map", "LinkedHashMap", "HashMap" -> "a mapping";
            default -> javaType.endsWith("Spec") || javaType.endsWith("Mapping") || javaType.endsWith("Condition")
                    || javaType.endsWith("Config") || javaType.endsWith("Definition") || javaType.endsWith("Step")
                    || javaType.endsWith("Input") ? "a mapping (" + javaType + ")" : javaType;
        };
    }

    private static String at(JsonLocation location) {
        return location == null || location.getLineNr() < 0 ? "" : " at line " + location.getLineNr() + ", column " + location.getColumnNr();
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
}
