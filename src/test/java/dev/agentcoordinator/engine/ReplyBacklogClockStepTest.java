package dev.agentcoordinator.engine;

import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The waits ReplyBacklog measures on its own (since the first sweep, since the last reply, the lag windows) are on a
 * monotonic clock: a wall clock stepped back (an NTP step, a VM resumed) made them negative, and every timeout sweep
 * was skipped, or held a drained backlog, until the wall clock caught up.
 */
class ReplyBacklogClockStepTest {

    private final AtomicLong wall = new AtomicLong(1_764_000_000_000L);
    /** Real time: what System.nanoTime() counts; it never steps back. */
    private final AtomicLong monotonic = new AtomicLong(1);
    private final ReplyBacklog backlog = new ReplyBacklog(wall::get, monotonic::get);

    private void elapse(long ms) {
        wall.addAndGet(ms);
        monotonic.addAndGet(ms);
    }

    @Test
    void aWallClockSteppedBackDoesNotStopTheTimeoutSweeps() {
        backlog.holdMs();                               // the first sweep
        elapse(ReplyBacklog.QUIET_MS);                  // 2 s later, no reply: the queue is known to be empty
        assertThat(backlog.holdMs()).hasValue(0);

        wall.addAndGet(-60 * 60_000);                   // NTP steps the wall clock back one hour
        elapse(ReplyBacklog.QUIET_MS * 5);              // 10 s of real time pass, still no reply
        assertThat(backlog.holdMs()).as("sweeps after a clock step back (empty: every timeout sweep is skipped)").hasValue(0);
    }

    @Test
    void aWallClockSteppedBackDoesNotFreezeALagThatHasDrained() {
        backlog.holdMs();
        backlog.taken(wall.get() - 60_000);             // a reply that waited 60 s in the queue
        assertThat(backlog.holdMs()).hasValue(60_000 + ReplyBacklog.MARGIN_MS);

        wall.addAndGet(-60 * 60_000);                   // the wall clock steps back one hour
        elapse(ReplyBacklog.QUIET_MS * 5);              // 10 s pass and no reply is taken: the queue has drained
        assertThat(backlog.holdMs()).as("hold 10 s after the last reply, the clock stepped back meanwhile").hasValue(0);
    }
}
