package dev.agentcoordinator.agent;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class AgentRequestTest {

    @Test
    void aCompensationsRequestSaysItUndoesItsStep() throws Exception {
        AgentRequest undo = AgentMessages.parseRequest("{\"execution_id\":\"e\",\"step_id\":\"book\",\"action\":\"unbook\","
                + "\"kind\":\"compensation\",\"attempt\":1,\"input\":{}}");
        assertThat(undo.isCompensation()).isTrue();
        assertThat(undo.stepId()).isEqualTo("book");
        AgentRequest run = AgentMessages.parseRequest("{\"execution_id\":\"e\",\"step_id\":\"book\",\"action\":\"book\",\"attempt\":1}");
        assertThat(run.isCompensation()).isFalse();
        assertThat(run.kind()).isNull();
    }
}
