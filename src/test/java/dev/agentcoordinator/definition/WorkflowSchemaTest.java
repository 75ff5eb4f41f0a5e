package dev.agentcoordinator.definition;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/** schema/workflow-definition.schema.json accepts what the loader accepts, and rejects broken shapes. */
class WorkflowSchemaTest {
    private static final ObjectMapper YAML = new YAMLMapper();
    private static JsonSchema schema;

    @BeforeAll
    static void loadSchema() throws IOException {
        JsonNode schemaNode = new ObjectMapper().readTree(Path.of("schema/workflow-definition.schema.json").toFile());
        schema = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012).getSchema(schemaNode);
    }

    static Stream<Path> shippedFiles() throws InvalidDefinitionsException {
        return WorkflowCatalog.definitionFiles(ShippedWorkflowsTest.SHIPPED).stream();
    }

    private static Set<ValidationMessage> validate(JsonNode document) {
        return schema.validate(document);
    }

    @ParameterizedTest
    @MethodSource("shippedFiles")
    void everyShippedWorkflowMatchesTheSchema(Path file) throws IOException {
        assertThat(validate(YAML.readTree(file.toFile()))).isEmpty();
    }

    @Test
    void everyExtensionIsAccepted() throws IOException {
        assertThat(validate(YAML.readTree("""
                id: wf
                name: All extensions
                trigger: T
                x-defaults: &quick { timeout_ms: 1000 }
                steps:
                  - id: a
                    agent: x
                    action: y
                    description: first
                    input_mapping:
                      m: { from_shared_memory: notes.latest }
                      s: { from_signal: SKILL_GAP_CRITICAL }
                      v: { value: { nested: [1, 2] } }
                    config: { timeout_ms: 1000, retry_count: 1, retry_backoff_ms: 50, allow_failure: false }
                    loop: { max_iterations: 2, until: { output_key: done, operator: exists }, feedback: { d: d }, fail_when_exhausted: true }
                    compensate:
                      agent: x
                      action: undo
                      input_mapping: { i: { from_input: id }, o: { from_output: id }, v: { value: 1 } }
                      config: { timeout_ms: 500, allow_failure: false, include_context: false }
                    locks:
                      - { resource_type: roadmap, resource_id: { from_trigger: user_id }, ttl_ms: 60000 }
                """))).isEmpty();
    }

    @Test
    void brokenFilesFailTheSchema() throws IOException {
        JsonNode broken = YAML.readTree(WorkflowCatalogTest.resource("broken/market_update.yaml").toFile());
        assertThat(validate(broken)).extracting(ValidationMessage::getMessage)
                .anySatisfy(m -> assertThat(m).contains("timeout").contains("not defined in the schema"));
    }

    @Test
    void schemaCatchesShapeErrors() throws IOException {
        ObjectNode wf = (ObjectNode) YAML.readTree("""
                id: wf
                name: n
                trigger: T
                steps:
                  - id: a
                    agent: Bad Agent
                    action: y
                    condition: { step: b, output_key: k, operator: gt }
                    input_mapping:
                      two: { from_trigger: t, value: 1 }
                      dangling: { from_step: b }
                    loop: { max_iterations: 0 }
                """);
        List<String> messages = validate(wf).stream().map(ValidationMessage::getMessage).toList();
        assertThat(messages).anySatisfy(m -> assertThat(m).contains("agent").contains("pattern"));
        assertThat(messages).anySatisfy(m -> assertThat(m).contains("condition").contains("value"));
        assertThat(messages).anySatisfy(m -> assertThat(m).contains("input_mapping.two"));
        assertThat(messages).anySatisfy(m -> assertThat(m).contains("input_mapping.dangling").contains("output_key"));
        assertThat(messages).anySatisfy(m -> assertThat(m).contains("max_iterations"));
        assertThat(messages).anySatisfy(m -> assertThat(m).contains("until"));

        assertThat(validate(YAML.readTree("id: wf\nname: n\ntrigger: T\nsteps: []\n"))).isNotEmpty();
        // as the validator: a compensation's allow_failure or include_context may be false, not true
        assertThat(validate(YAML.readTree("id: wf\nname: n\ntrigger: T\nsteps:\n  - { id: a, agent: x, action: y, "
                + "compensate: { agent: x, action: undo, config: { include_context: true } } }\n")))
                .extracting(ValidationMessage::getMessage).anySatisfy(m -> assertThat(m).contains("include_context"));
        // as the validator: no blank outcome event, ordering operators compare numbers or strings, and a loop
        // leaves previous_iteration_output to the coordinator
        assertThat(validate(YAML.readTree("id: wf\nname: n\ntrigger: T\nonSuccess: \" \"\nsteps:\n  - id: a\n    agent: x\n    action: y\n"
                + "    input_mapping: { previous_iteration_output: { value: 1 } }\n"
                + "    loop: { max_iterations: 2, until: { output_key: s, operator: gte, value: true }, feedback: { previous_iteration_output: d } }\n")))
                .extracting(ValidationMessage::getMessage)
                .anySatisfy(m -> assertThat(m).contains("onSuccess"))
                .anySatisfy(m -> assertThat(m).contains("until.value"))
                .anySatisfy(m -> assertThat(m).contains("feedback"))
                .anySatisfy(m -> assertThat(m).contains("input_mapping"));
        // as the validator: a trigger with spaces around it, a path with an empty part, a value a loop's exists does not read
        assertThat(validate(YAML.readTree("id: wf\nname: n\ntrigger: \" T\"\nsteps:\n  - id: a\n    agent: x\n    action: y\n"
                + "    input_mapping: { p: { from_trigger: \"u..id\" } }\n"
                + "    loop: { max_iterations: 2, until: { output_key: k, operator: exists, value: 3 } }\n")))
                .extracting(ValidationMessage::getMessage)
                .anySatisfy(m -> assertThat(m).contains("trigger").contains("pattern"))
                .anySatisfy(m -> assertThat(m).contains("from_trigger").contains("pattern"))
                .anySatisfy(m -> assertThat(m).contains("until"));
        // a condition's exists and not_exists take the value the spec's condition type asks for, and do not read it
        assertThat(validate(YAML.readTree("id: wf\nname: n\ntrigger: T\nsteps:\n  - { id: a, agent: x, action: y }\n"
                + "  - { id: b, agent: x, action: y, depends_on: [a], condition: { step: a, output_key: k, operator: exists, value: true } }\n"
                + "  - { id: c, agent: x, action: y, depends_on: [a], condition: { step: a, output_key: k, operator: not_exists, value: null } }\n")))
                .isEmpty();
        // the coordinator's own queues are not agents (AgentNames.RESERVED)
        assertThat(validate(YAML.readTree("id: wf\nname: n\ntrigger: T\nsteps:\n  - { id: a, agent: events, action: y }\n")))
                .extracting(ValidationMessage::getMessage).anySatisfy(m -> assertThat(m).contains("agent"));
    }

    @Test
    void everyPropertyHasADescription() throws IOException {
        JsonNode root = new ObjectMapper().readTree(Files.readString(Path.of("schema/workflow-definition.schema.json")));
        List<String> undocumented = new ArrayList<>();
        collectUndocumented(root, root, "", undocumented);
        assertThat(undocumented).isEmpty();
    }

    /** Editors show a property's description, or that of the definition its $ref points to. */
    private static void collectUndocumented(JsonNode root, JsonNode node, String where, List<String> undocumented) {
        node.path("properties").fields().forEachRemaining(p -> {
            JsonNode property = p.getValue();
            boolean described = property.has("description")
                    || (property.has("$ref") && root.at(property.get("$ref").asText().substring(1)).has("description"));
            if (!described) {
                undocumented.add(where + "/" + p.getKey());
            }
        });
        node.fields().forEachRemaining(f -> {
            // "if" only selects a case; its properties are not what an author writes
            if (f.getValue().isObject() && !f.getKey().equals("if")) {
                collectUndocumented(root, f.getValue(), where + "/" + f.getKey(), undocumented);
            }
        });
    }
}
