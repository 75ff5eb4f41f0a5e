package dev.agentcoordinator.engine;

import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

class IgnoredReplyLinesTest {

    @Test
    void anAttemptAnsweredAgainAndAgainGetsALineAtMostEveryThirtySecondsCountingTheOthers() {
        AtomicLong now = new AtomicLong(1_000_000);
        IgnoredReplyLines lines = new IgnoredReplyLines(now::get);

        assertThat(lines.lineFor("r1:1", "duplicate")).isEqualTo("duplicate");
        for (int i = 0; i < 999; i++) {
            now.addAndGet(8);
            assertThat(lines.lineFor("r1:1", "duplicate")).isNull();
        }
        // another attempt has lines of its own
        assertThat(lines.lineFor("r2:1", "late")).isEqualTo("late");
        now.set(1_000_000 + IgnoredReplyLines.TELL_EVERY_MS);
        assertThat(lines.lineFor("r1:1", "duplicate"))
                .isEqualTo("duplicate (999 more ignored for this attempt since the last such line, each recorded in ignored_replies)");
        now.addAndGet(IgnoredReplyLines.TELL_EVERY_MS);
        assertThat(lines.lineFor("r1:1", "duplicate")).isEqualTo("duplicate");
    }
}
