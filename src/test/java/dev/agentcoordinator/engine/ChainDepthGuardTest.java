package dev.agentcoordinator.engine;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** Which events are outcome events (OutcomeEvents' event_id and payload), whose chain depth is counted. */
class ChainDepthGuardTest {

    @Test
    void anOutcomeEventIsKnownByItsEventIdPayloadExecutionAndStatus() {
        assertThat(ChainDepthGuard.causeOf(Json.parse("{\"execution_id\":\"e-1\",\"status\":\"completed\"}"), "e-1:completed"))
                .isEqualTo("e-1");
        assertThat(ChainDepthGuard.causeOf(Json.parse("{\"execution_id\":\"e-1\",\"status\":\"failed\"}"), "e-1:failed:3"))
                .isEqualTo("e-1");
        assertThat(ChainDepthGuard.causeOf(Json.parse("{\"execution_id\":\"e-1\",\"status\":\"compensation_failed\"}"),
                "e-1:compensation_failed")).isEqualTo("e-1");
    }

    /**
     * An event of anyone else whose event_id merely begins with its payload's execution_id (a CI build's) starts a chain
     * of its own (README "Outcome events"): read as an outcome event whose execution is gone, it went to the DLQ.
     */
    @Test
    void anOutsideEventNamingAnExecutionOfItsOwnIsNoOutcomeEvent() {
        assertThat(ChainDepthGuard.causeOf(Json.parse("{\"execution_id\":\"build-42\",\"result\":\"green\"}"), "build-42:finished")).isNull();
        assertThat(ChainDepthGuard.causeOf(Json.parse("{\"execution_id\":\"build-42\",\"status\":\"finished\"}"), "build-42:finished")).isNull();
        assertThat(ChainDepthGuard.causeOf(Json.parse("{\"execution_id\":\"e-1\",\"status\":\"failed\"}"), "e-1:completed")).isNull();
        assertThat(ChainDepthGuard.causeOf(Json.parse("{\"execution_id\":\"e-1\",\"status\":\"failed\"}"), "e-1:failed:0")).isNull();
        assertThat(ChainDepthGuard.causeOf(Json.parse("{\"execution_id\":\"e-1\",\"status\":\"failed\"}"), "e-1:failed:x")).isNull();
    }
}
