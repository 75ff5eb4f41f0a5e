package dev.agentcoordinator.engine;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** What an event that is no JSON is told: what is wrong and where, in words, without the parser's internals. */
class EventParseErrorTest {
    @Test
    void anUnclosedObjectNamesWhereItWasOpened() {
        assertThatThrownBy(() -> EventDecoder.parse("{\"type\": \"X\", \"payload\": {"))
                .isInstanceOf(InvalidEventException.class)
                .hasMessageStartingWith("event is not valid JSON: Unexpected end-of-input: expected close marker for Object (opened at line 1, column 26)")
                .hasMessageNotContaining("Source")
                .hasMessageNotContaining("StreamReadFeature");
    }

    @Test
    void aWordIsNamedWithItsPlace() {
        assertThatThrownBy(() -> EventDecoder.parse("{\n  \"type\": hello\n}"))
                .hasMessageStartingWith("event is not valid JSON: Unrecognized token 'hello'")
                .hasMessageContaining("at line 2, column ");
    }

    @Test
    void fieldsAnEventDoesNotHaveAreNamedWithTheFieldTheyMayStandFor() {
        assertThat(IgnoredFields.EVENT.describe(EventDecoder.parse("{\"type\": \"X\", \"payload\": {}, \"event_id\": \"e\"}"))).isEmpty();
        assertThat(IgnoredFields.EVENT.describe(EventDecoder.parse("{\"type\": \"X\"}"))).isEmpty();
        assertThat(IgnoredFields.EVENT.describe(EventDecoder.parse("{\"type\": \"X\", \"payloads\": {\"a\": 1}}")).map(IgnoredFields.Ignored::text))
                .hasValue("event field \"payloads\" is ignored (an event has \"type\", \"payload\" and \"event_id\"):"
                        + " did you mean \"payload\" for \"payloads\"?");
        assertThat(IgnoredFields.EVENT.describe(EventDecoder.parse("{\"type\": \"X\", \"payload\": {}, \"source\": \"crm\", \"eventId\": \"e\", \"at\": 1}")).map(IgnoredFields.Ignored::text))
                .hasValue("event fields \"source\", \"eventId\" and \"at\" are ignored (an event has \"type\", \"payload\""
                        + " and \"event_id\"): did you mean \"event_id\" for \"eventId\"?");
        // an event_id stamped on the event afterwards (POST /api/events) is not what the sender meant
        assertThat(IgnoredFields.EVENT.describe(EventDecoder.parse("{\"type\": \"X\", \"eventId\": \"e\"}")).map(IgnoredFields.Ignored::text))
                .hasValueSatisfying(said -> assertThat(said).endsWith("did you mean \"event_id\" for \"eventId\"?"));
        // the sender's own metadata, and a field three edits from one it lacks: named, no mistake suggested
        IgnoredFields.Ignored own = IgnoredFields.EVENT.describe(EventDecoder.parse("{\"type\": \"X\", \"source\": \"crm\", \"event\": 1}")).orElseThrow();
        assertThat(own.misspelt()).isFalse();
        assertThat(own.text()).isEqualTo("event fields \"source\" and \"event\" are ignored (an event has \"type\", \"payload\" and \"event_id\")");
    }

    @Test
    void aMisspeltTypeIsNamed() {
        assertThatThrownBy(() -> EventDecoder.parse("{\"typ\": \"X\", \"payload\": {}}"))
                .hasMessage("event field \"type\" must be a non-empty string (it has \"typ\": did you mean \"type\"?)");
    }

    /** A heartbeat or reply an agent sent to agent.events (a Node.js agent author's mistake) is named as one. */
    @Test
    void aStepReplyOnTheEventQueueIsNamedAsOne() {
        assertThatThrownBy(() -> EventDecoder.parse("{\"status\": \"running\"}"))
                .hasMessageStartingWith("event field \"type\" must be a non-empty string")
                .hasMessageEndingWith("; it looks like a step reply or heartbeat, which an agent sends to the queue its request's"
                        + " JMSReplyTo names, not to agent.events");
        // an event whose type is misspelt is told that, not this
        assertThatThrownBy(() -> EventDecoder.parse("{\"Type\": \"X\", \"status\": \"ok\"}"))
                .message().doesNotContain("step reply");
    }

    /** What is wrong with a type or an event_id says what the event has instead. */
    @Test
    void aWrongTypeOrEventIdSaysWhatItGot() {
        assertThatThrownBy(() -> EventDecoder.parse("{\"type\": {\"x\": 1}}"))
                .hasMessage("event field \"type\" must be a non-empty string, got object");
        assertThatThrownBy(() -> EventDecoder.parse("{\"type\": \"  \"}"))
                .hasMessage("event field \"type\" must be a non-empty string, got a blank one");
        assertThatThrownBy(() -> EventDecoder.parse("{\"type\": \"X\", \"event_id\": \"  \"}"))
                .hasMessage("event field \"event_id\" must be 1 to 255 characters, not all blank, got a blank one");
        assertThatThrownBy(() -> EventDecoder.parse("{\"type\": \"X\", \"event_id\": true}"))
                .hasMessage("event field \"event_id\" must be a string (or a number), got boolean");
    }

    /**
     * What PostgreSQL cannot store as sent and give back is refused, naming it and where: a number whose exponent makes it
     * longer than Jackson reads back once PostgreSQL wrote it out (the stored event, its execution and its steps' requests
     * could not be read again), and an unpaired surrogate, which the driver stored as "?" without a word.
     */
    @Test
    void whatPostgreSqlCannotStoreAsSentIsRefusedNamingWhere() {
        assertThatThrownBy(() -> EventDecoder.parse("{\"type\": \"X\", \"payload\": {\"n\": [1, {\"deep\": 1e2000}]}}"))
                .hasMessage("event holds a number of 2,001 digits written out, as PostgreSQL stores it (1E+2000 at payload.n.1.deep):"
                        + " at most 1,000");
        assertThatThrownBy(() -> EventDecoder.parse("{\"type\": \"X\", \"payload\": {\"n\": 1e999999999}}"))
                .hasMessageStartingWith("event holds a number of 1,000,000,000 digits written out");
        assertThatThrownBy(() -> EventDecoder.parse("{\"type\": \"X\", \"payload\": {\"n\": 1e-2000}}"))
                .hasMessageStartingWith("event holds a number of 2,001 digits written out");
        assertThatThrownBy(() -> EventDecoder.parse("{\"type\": \"X\", \"payload\": {\"k\": \"a\\ud800b\"}}"))
                .hasMessage("event contains an unpaired surrogate (\\uD800 at payload.k), which is not text: PostgreSQL would store it as \"?\"");
        assertThatThrownBy(() -> EventDecoder.parse("{\"type\": \"X\", \"payload\": {\"k\\u0000\": 1}}"))
                .hasMessage("event contains the character U+0000 (\\u0000 at payload.k\\u0000), which PostgreSQL cannot store");
        // a key is named as a place of its own, its escapes written out
        assertThatThrownBy(() -> EventDecoder.parse("{\"type\": \"X\", \"payload\": {\"k\\ud800\": 1}}"))
                .hasMessage("event contains an unpaired surrogate (\\uD800 at payload.k\\uD800), which is not text: PostgreSQL would store it as \"?\"");
        // numbers that are stored as sent (0e5000 is stored as 0), and a pair of surrogates (an emoji), pass
        assertThat(EventDecoder.parse("{\"type\": \"X\", \"payload\": {\"z\": 0e5000}}").path("payload").path("z").isNumber()).isTrue();
        assertThat(EventDecoder.parse("{\"type\": \"X\", \"payload\": {\"a\": 1.5e300, \"b\": 12345678901234567890.5,"
                + " \"c\": \"\\ud83d\\ude00\"}}").path("payload").path("c").asText()).isEqualTo("\ud83d\ude00");
    }
}
