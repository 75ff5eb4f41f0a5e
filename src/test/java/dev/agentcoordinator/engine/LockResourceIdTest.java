package dev.agentcoordinator.engine;

import dev.agentcoordinator.definition.DefinitionReader;
import dev.agentcoordinator.definition.WorkflowDefinition;
import org.apache.camel.Message;
import org.apache.camel.impl.DefaultCamelContext;
import org.apache.camel.support.DefaultMessage;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** A lock's resource id read from the execution: what names one resource, and what the error says when it does not. */
class LockResourceIdTest {
    private static final WorkflowDefinition WORKFLOW;

    static {
        try {
            WORKFLOW = new DefinitionReader().read("wf.yaml", """
                    id: w
                    name: n
                    trigger: T
                    steps:
                      - { id: s, agent: x, action: y, locks: [ { resource_type: roadmap, resource_id: { from_trigger: uid } } ] }
                    """).definition();
        } catch (Exception e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private static Message resolved(String trigger) {
        Message in = new DefaultMessage(new DefaultCamelContext());
        new LockedStepStart(WORKFLOW, WORKFLOW.step("s").orElseThrow()).resolve(ExecutionContext.starting(trigger), in);
        return in;
    }

    @Test
    void aNumberOrAStringNamesTheResourceAndAnythingElseIsNamedForWhatItIs() {
        assertThat(resolved("{\"uid\": 5}").getHeader(LockedStepStart.LOCK_ERROR)).isNull();
        assertThat(resolved("{\"uid\": \"u-5\"}").getHeader(LockedStepStart.LOCK_ERROR)).isNull();
        assertThat(resolved("{}").getHeader(LockedStepStart.LOCK_ERROR, String.class)).endsWith("has no value in this execution");
        assertThat(resolved("{\"uid\": {\"a\": [1, 2]}}").getHeader(LockedStepStart.LOCK_ERROR, String.class))
                .endsWith("is an object in this execution, and a lock names its resource by a string or a number");
        assertThat(resolved("{\"uid\": [1]}").getHeader(LockedStepStart.LOCK_ERROR, String.class)).contains("is a list in this execution");
        assertThat(resolved("{\"uid\": \" \"}").getHeader(LockedStepStart.LOCK_ERROR, String.class)).contains("is blank text in this execution");
    }
}
