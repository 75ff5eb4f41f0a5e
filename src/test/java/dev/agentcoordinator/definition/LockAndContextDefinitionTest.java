package dev.agentcoordinator.definition;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** What DefinitionValidatorTest.lockNeedsTypeAndOneResourceIdSource leaves out: the other unsupported and unknown sources, and include_context. */
class LockAndContextDefinitionTest {
    private static final String HEADER = """
            id: wf
            name: Workflow
            trigger: TEST_EVENT
            steps:
              - { id: a, agent: x, action: y }
            """;

    @Test
    void aLockedResourceCannotComeFromSharedMemoryOrASignal() {
        assertThat(DefinitionValidatorTest.errorsOf(HEADER + """
                  - id: b
                    agent: x
                    action: y
                    depends_on: [a]
                    locks:
                      - { resource_type: roadmap, resource_id: { from_shared_memory: user } }
                      - { resource_type: roadmap, resource_id: { from_signal: SKILL_GAP } }
                      - { resource_type: roadmap, resource_id: { from_step: a, output_key: id }, ttl_ms: 1000 }
                """)).containsExactly(
                "wf.yaml: step \"b\": locks[0].resource_id: from_shared_memory cannot name a locked resource (use from_trigger or from_step + output_key)",
                "wf.yaml: step \"b\": locks[1].resource_id: from_signal cannot name a locked resource (use from_trigger or from_step + output_key)");
    }

    @Test
    void anUnknownMappingSourceIsRejectedWhenTheFileIsRead() {
        assertThatThrownBy(() -> new DefinitionReader().read("wf.yaml", HEADER + """
                  - id: b
                    agent: x
                    action: y
                    locks:
                      - { resource_type: roadmap, resource_id: { from_env: USER } }
                """))
                .isInstanceOf(DefinitionReadException.class)
                .hasMessageContaining("unknown field \"from_env\"");
    }

    @Test
    void includeContextIsAStepConfigFlag() throws Exception {
        LoadedDefinition loaded = new DefinitionReader().read("wf.yaml", HEADER + """
                  - { id: b, agent: x, action: y, depends_on: [a], config: { include_context: true, timeout_ms: 1000 } }
                """);
        assertThat(new DefinitionValidator().validate(loaded)).isEmpty();
        assertThat(loaded.definition().step("b").orElseThrow().config().includesContext()).isTrue();
        assertThat(loaded.definition().step("a").orElseThrow().config().includesContext()).isFalse();
    }
}
