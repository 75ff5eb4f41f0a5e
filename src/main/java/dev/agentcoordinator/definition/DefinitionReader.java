package dev.agentcoordinator.definition;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonStreamContext;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.deser.DeserializationProblemHandler;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.json.JsonMapper;
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
        UnknownFields unknown = new UnknownFields(fileName, content, mapper);
        try {
            WorkflowDefinition definition = mapper.readerFor(WorkflowDefinition.class).withHandler(unknown).readValue(content);
            if (definition == null) {
                throw new DefinitionReadException(DefinitionError.ofWorkflow(fileName, null, "file holds no workflow (null document)"), null);
            }
            return new Read(new LoadedDefinition(fileName, definition), List.copyOf(unknown.found));
        } catch (JsonProcessingException e) {
            throw new DefinitionReadException(ParseErrorDescriber.describe(fileName, content, mapper, e), e);
        }
    }

    private static LoadedDefinition strictly(Read read) throws DefinitionReadException {
        if (!read.unknownFields().isEmpty()) {
            throw new DefinitionReadException(read.unknownFields().get(0), null);
        }
        return read.loaded();
    }

    /** Notes each unknown field as Jackson would have refused it (same message and path), and skips it. */
    private static final class UnknownFields extends DeserializationProblemHandler {
        private final String fileName;
        private final String content;
        private final ObjectMapper mapper;
        private final List<DefinitionError> found = new ArrayList<>();

        UnknownFields(String fileName, String content, ObjectMapper mapper) {
            this.fileName = fileName;
            this.content = content;
            this.mapper = mapper;
        }

        @Override
        public boolean handleUnknownProperty(DeserializationContext context, JsonParser parser, JsonDeserializer<?> deserializer,
                                             Object beanOrClass, String propertyName) throws IOException {
            UnrecognizedPropertyException refused = UnrecognizedPropertyException.from(parser, beanOrClass, propertyName,
                    deserializer == null ? null : deserializer.getKnownPropertyNames());
            // the path Jackson gives the exception as it travels out (from() names the field itself): where the
            // object holding the field is, from the parser's contexts, outermost first
            for (JsonStreamContext at = parser.getParsingContext().getParent(); at != null && !at.inRoot(); at = at.getParent()) {
                if (at.inArray()) {
                    refused.prependPath(null, at.getCurrentIndex());
                } else {
                    refused.prependPath(null, at.getCurrentName());
                }
            }
            found.add(ParseErrorDescriber.describe(fileName, content, mapper, refused));
            parser.skipChildren();
            return true;
        }
    }
}
