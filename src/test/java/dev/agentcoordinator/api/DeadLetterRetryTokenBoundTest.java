package dev.agentcoordinator.api;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * POST /api/dead-letters/{id}/retry puts a dead letter back only when agent.events would take it: read within
 * coordinator.input.max-json-tokens, as the event route reads it, not within the default 1,000,000 (a coordinator whose
 * setting is higher answered 409 to the retry of an event of more tokens it would take, dead-lettered for another cause).
 */
class DeadLetterRetryTokenBoundTest {
    /** An event of a little over 1,500,000 JSON tokens. */
    private static final String EVENT = "{\"type\": \"NO_WORKFLOW_STARTS_ON_THIS\", \"event_id\": \"e-1\", \"payload\": {\"n\": ["
            + "0,".repeat(1_500_000) + "0]}}";

    @Test
    void anEventWithinARaisedBoundWouldBeTakenAgain() {
        assertThat(DeadLetterAnswers.refusalOf(EVENT, 2_000_000)).isNull();
    }

    @Test
    void anEventBeyondTheBoundWouldBeRefusedAgainNamingIt() {
        assertThat(DeadLetterAnswers.refusalOf(EVENT, 1_000_000)).contains("1,000,000").contains("coordinator.input.max-json-tokens");
    }
}
