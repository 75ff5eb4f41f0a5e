package dev.agentcoordinator.infra;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class KnownDatabaseOutageTest {

    /** Known while any breaker is open on it, from when the first opened: the last to see the database answer ends it. */
    @Test
    void knownFromTheFirstBreakerOpenUntilTheLastClosed() {
        KnownDatabaseOutage outage = new KnownDatabaseOutage();
        Object replies = new Object();
        Object sweep = new Object();
        assertThat(outage.since()).isEmpty();

        outage.seen(replies);
        java.time.Instant since = outage.since().orElseThrow();
        outage.seen(sweep);
        outage.seen(replies);   // again: no new outage
        assertThat(outage.since()).hasValue(since);

        outage.over(replies);
        assertThat(outage.since()).as("the sweep's breaker is still open").hasValue(since);
        outage.over(sweep);
        assertThat(outage.since()).isEmpty();
        outage.over(sweep);   // a breaker stopped after it closed
        assertThat(outage.since()).isEmpty();
    }
}
