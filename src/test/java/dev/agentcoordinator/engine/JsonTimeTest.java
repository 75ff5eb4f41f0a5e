package dev.agentcoordinator.engine;

import org.junit.jupiter.api.Test;

import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;

class JsonTimeTest {

    @Test
    void everyTimeHasSixFractionDigitsInUtc() {
        assertThat(Json.time(Instant.parse("2026-12-06T11:45:15Z"))).isEqualTo("2026-12-06T11:45:15.000000Z");
        assertThat(Json.time(Instant.parse("2026-12-06T11:45:14.500Z"))).isEqualTo("2026-12-06T11:45:14.500000Z");
        assertThat(Json.time(Instant.parse("2026-12-06T11:45:14.586845Z"))).isEqualTo("2026-12-06T11:45:14.586845Z");
        // nanoseconds (Java's clock) are cut to PostgreSQL's microseconds
        assertThat(Json.time(Instant.parse("2026-12-06T11:45:14.586845999Z"))).isEqualTo("2026-12-06T11:45:14.586845Z");
    }
}
