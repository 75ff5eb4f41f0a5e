package dev.agentcoordinator.engine;

import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

class ReplyBacklogTest {

    private final AtomicLong now = new AtomicLong(1_764_000_000_000L);
    private final ReplyBacklog backlog = new ReplyBacklog(now::get);

    @Test
    void unknownFromTheFirstSweepUntilAReplyOrAQuietSpell() {
        assertThat(backlog.holdMs()).isEmpty();
        now.addAndGet(ReplyBacklog.QUIET_MS - 1);
        assertThat(backlog.holdMs()).isEmpty();
        now.addAndGet(1);
        assertThat(backlog.holdMs()).hasValue(0);
    }

    /** Another coordinator's consumers may have taken the backlog into their buffers: the sweeps hold for its hold too. */
    @Test
    void sharedTheSweepsHoldForTheLongestHoldOfTheOtherCoordinatorsReadLately() {
        backlog.shareWithOtherCoordinators();
        backlog.holdMs();
        now.addAndGet(ReplyBacklog.QUIET_MS);
        assertThat(backlog.holdMs()).as("the others' not read yet").isEmpty();
        assertThat(backlog.shareOwnHold()).as("nothing to share: 0, and nothing shared before").isEmpty();

        backlog.othersHold(40_000);
        assertThat(backlog.holdMs()).hasValue(40_000);

        backlog.taken(now.get() - 60_000);   // its own backlog is older
        assertThat(backlog.holdMs()).hasValue(60_000 + ReplyBacklog.MARGIN_MS);
        assertThat(backlog.shareOwnHold()).hasValue(60_000 + ReplyBacklog.MARGIN_MS);

        now.addAndGet(ReplyBacklog.QUIET_MS);   // its consumers drained theirs
        assertThat(backlog.shareOwnHold()).as("0 once, after a hold").hasValue(0);
        assertThat(backlog.shareOwnHold()).isEmpty();
        now.addAndGet(ReplyBacklog.OTHERS_FRESH_MS - ReplyBacklog.QUIET_MS);
        assertThat(backlog.holdMs()).hasValue(40_000);
        now.addAndGet(1);
        assertThat(backlog.holdMs()).as("a reading too old (the database did not answer since) counts for nothing").hasValue(0);
    }

    /**
     * A reply rolled back here is waited for as long as the broker may wait before its next delivery (at most 10 s), not
     * for the whole chain of deliveries (60 s): a delivery this coordinator takes counts anew, and one another
     * coordinator takes is covered by its hold. A database blip that rolled back a reply on each of two coordinators,
     * each redelivered to the other, held every attempt and execution timeout of both for a minute (a chaos run: a late
     * reply's attempt timed out 62 s after its deadline, its retry then past the execution's).
     */
    @Test
    void aReplyRolledBackHereIsWaitedForNoLongerThanItsNextDeliveryMayTake() {
        backlog.holdMs();
        backlog.taken(now.get() - 100);
        backlog.settlementOf("ID:rolled-back-here", now.get() - 100).onFailure(null);
        now.addAndGet(10_000);   // EmbeddedBroker.MAX_REDELIVERY_DELAY_MS
        assertThat(backlog.holdMs()).as("its next delivery may still come").hasValue(10_100 + ReplyBacklog.MARGIN_MS);
        now.addAndGet(2_001);
        assertThat(backlog.holdMs()).as("taken elsewhere, or dead-lettered").hasValue(0);
    }

    /**
     * A reply rolled back here goes back to the broker, which may hand it to another coordinator that settles it: this
     * coordinator holds for it (it cannot tell), but does not share it, or every coordinator's timeouts waited for
     * REDELIVERY_MS (a reliability run saw 60 s). A reply still in flight here is shared: nobody else can see it.
     */
    @Test
    void aReplyRolledBackHereHoldsThisCoordinatorButIsNotSharedAndOneInFlightIs() {
        backlog.shareWithOtherCoordinators();
        backlog.holdMs();
        backlog.taken(now.get() - 40);
        long sentAt = now.get() - 30_000;
        backlog.settlementOf("ID:rolled-back", sentAt).onFailure(null);
        backlog.othersHold(0);
        assertThat(backlog.holdMs()).hasValue(30_000 + ReplyBacklog.MARGIN_MS);
        assertThat(backlog.shareOwnHold()).as("the flowing queue's 40 ms, not the rolled-back reply's 30 s").hasValue(40);

        backlog.settlementOf("ID:in-flight", sentAt);
        assertThat(backlog.shareOwnHold()).hasValue(30_000 + ReplyBacklog.MARGIN_MS);
    }

    @Test
    void theOtherCoordinatorsHoldsNeverReadAreNotWaitedForBeyondAFewSeconds() {
        backlog.shareWithOtherCoordinators();
        backlog.holdMs();
        now.addAndGet(ReplyBacklog.QUIET_MS + ReplyBacklog.OTHERS_FRESH_MS - 1);
        assertThat(backlog.holdMs()).isEmpty();
        now.addAndGet(1);
        assertThat(backlog.holdMs()).hasValue(0);
    }

    @Test
    void unknownWhileTheConsumersAreSuspendedAndAfterwardsUntilAReplyOrAQuietSpell() {
        backlog.holdMs();
        backlog.taken(now.get() - 40);
        assertThat(backlog.holdMs()).hasValue(40);

        backlog.consumersSuspended();   // the database is unreachable
        now.addAndGet(ReplyBacklog.REDELIVERY_MS * 2);
        assertThat(backlog.holdMs()).isEmpty();

        backlog.consumersResumed();
        assertThat(backlog.holdMs()).as("what queued meanwhile is not known yet").isEmpty();
        now.addAndGet(ReplyBacklog.QUIET_MS - 1);
        assertThat(backlog.holdMs()).isEmpty();
        backlog.taken(now.get() - 30_000);   // a reply sent half a minute ago, during the outage
        assertThat(backlog.holdMs()).hasValue(30_000 + ReplyBacklog.MARGIN_MS);
    }

    @Test
    void unknownWhileTheBrokerCannotBeReachedAndAfterwardsUntilAReplyOrAQuietSpell() {
        backlog.holdMs();
        backlog.taken(now.get() - 40);
        assertThat(backlog.holdMs()).hasValue(40);

        backlog.brokerUnreachable();
        now.addAndGet(ReplyBacklog.QUIET_MS * 10);   // no reply taken: not a drained queue
        assertThat(backlog.holdMs()).isEmpty();
        backlog.consumersSuspended();
        backlog.consumersResumed();   // the database came back first: the broker still holds the sweeps
        assertThat(backlog.holdMs()).isEmpty();

        backlog.brokerReachable();
        assertThat(backlog.holdMs()).isEmpty();
        now.addAndGet(ReplyBacklog.QUIET_MS);
        assertThat(backlog.holdMs()).hasValue(0);
    }

    /**
     * A flowing queue holds the sweeps only as long as replies lately took to be taken: a reply that reached the broker
     * just before its attempt's deadline and is read now is not beaten to its attempt by the sweep. Shared too: another
     * coordinator's sweep cannot see the replies this one reads.
     */
    @Test
    void aFlowingQueueHoldsAsLongAsRepliesLatelyTookToBeTakenAndSharesIt() {
        backlog.shareWithOtherCoordinators();
        backlog.holdMs();
        backlog.othersHold(0);
        backlog.taken(now.get() - 40);
        assertThat(backlog.holdMs()).hasValue(40);
        assertThat(backlog.shareOwnHold()).hasValue(40);
    }

    /** A reply taken and settling as the sweep runs holds it by the reply's age: its attempt is its to settle. */
    @Test
    void aReplySettlingAsTheSweepRunsHoldsItByItsAge() {
        backlog.holdMs();
        backlog.taken(now.get() - 10);
        now.addAndGet(ReplyBacklog.QUIET_MS);   // nothing taken lately
        long arrived = now.get() - 300;   // 300 ms ago, just before its attempt's deadline
        backlog.taken(arrived);
        backlog.settlementOf("ID:settling", arrived);
        assertThat(backlog.holdMs()).hasValue(300);
        backlog.settled("ID:settling");
        now.addAndGet(ReplyBacklog.QUIET_MS);
        assertThat(backlog.holdMs()).hasValue(0);
    }

    @Test
    void aBacklogHoldsTimeoutsByTheAgeOfTheOldestReplyTakenLately() {
        backlog.holdMs();
        backlog.taken(now.get() - 12_000);   // sent 12 s ago, while no coordinator ran
        assertThat(backlog.holdMs()).hasValue(12_000 + ReplyBacklog.MARGIN_MS);

        // another consumer, further into the queue: the oldest reply still counts
        now.addAndGet(300);
        backlog.taken(now.get() - 3_000);
        assertThat(backlog.holdMs()).hasValue(12_000 + ReplyBacklog.MARGIN_MS);

        now.addAndGet(ReplyBacklog.WINDOW_MS);
        backlog.taken(now.get() - 2_000);   // a new window; the one before still counts
        assertThat(backlog.holdMs()).hasValue(12_000 + ReplyBacklog.MARGIN_MS);

        now.addAndGet(ReplyBacklog.WINDOW_MS);
        backlog.taken(now.get() - 1_000);   // catching up
        assertThat(backlog.holdMs()).hasValue(2_000 + ReplyBacklog.MARGIN_MS);

        now.addAndGet(ReplyBacklog.QUIET_MS);   // drained: nothing taken since
        assertThat(backlog.holdMs()).hasValue(0);
    }

    @Test
    void theHoldIsBoundedAndRepliesWithoutATimestampTellNothing() {
        backlog.holdMs();
        backlog.taken(0);
        now.addAndGet(ReplyBacklog.QUIET_MS);
        assertThat(backlog.holdMs()).hasValue(0);

        backlog.taken(now.get() - 3_600_000);   // an agent whose clock is an hour behind
        assertThat(backlog.holdMs()).hasValue(ReplyBacklog.MAX_HOLD_MS);
    }

    /**
     * An operator stopped the reply route for longer than MAX_HOLD_MS: the replies queued meanwhile are that much older
     * with no clock off, and the hold covers them until they are taken (a stop of 5 min 48 s timed out 263 of 300
     * attempts whose replies had come in time); then the bound is MAX_HOLD_MS again.
     */
    @Test
    void aPauseLongerThanTheBoundRaisesItUntilWhatItLeftQueuedIsTaken() {
        backlog.holdMs();
        now.addAndGet(ReplyBacklog.QUIET_MS);
        org.apache.camel.spi.RoutePolicy route = backlog.operatorStops();
        long sentAt = now.get();
        route.onStop(null);
        now.addAndGet(2 * ReplyBacklog.MAX_HOLD_MS);
        assertThat(backlog.holdMs()).as("stopped").isEmpty();
        route.onStart(null);
        backlog.taken(sentAt);
        assertThat(backlog.holdMs()).hasValue(2 * ReplyBacklog.MAX_HOLD_MS + ReplyBacklog.MARGIN_MS);

        now.addAndGet(ReplyBacklog.QUIET_MS);   // drained
        assertThat(backlog.holdMs()).hasValue(0);
        backlog.taken(now.get() - 3_600_000);   // an agent whose clock is an hour behind: bounded again
        assertThat(backlog.holdMs()).hasValue(ReplyBacklog.MAX_HOLD_MS);
    }

    @Test
    void aReplyStuckInFlightHoldsTimeoutsByItsAge() {
        backlog.holdMs();
        long sentAt = now.get() - 50;
        backlog.taken(sentAt);
        backlog.settlementOf("ID:stuck", sentAt);   // the consumer waits for a database connection
        assertThat(backlog.holdMs()).hasValue(50);   // 50 ms in flight: flowing

        now.addAndGet(5_000);   // nothing taken for 5 s, but the reply is not settled: not a drained queue
        assertThat(backlog.holdMs()).hasValue(5_050 + ReplyBacklog.MARGIN_MS);

        backlog.settled("ID:stuck");   // its transaction committed
        assertThat(backlog.holdMs()).hasValue(0);
    }

    @Test
    void aRolledBackReplyHoldsTimeoutsUntilItIsTakenAgainOrNotRedeliveredInTime() {
        backlog.holdMs();
        long sentAt = now.get() - 100;
        backlog.taken(sentAt);
        org.apache.camel.spi.Synchronization settlement = backlog.settlementOf("ID:refused", sentAt);
        settlement.onFailure(null);   // the database refused it: the broker delivers it again later
        now.addAndGet(8_000);
        assertThat(backlog.holdMs()).hasValue(8_100 + ReplyBacklog.MARGIN_MS);

        backlog.taken(sentAt);   // redelivered, and this time committed
        backlog.settlementOf("ID:refused", sentAt).onComplete(null);
        now.addAndGet(ReplyBacklog.QUIET_MS);
        assertThat(backlog.holdMs()).hasValue(0);

        backlog.settlementOf("ID:dead-lettered", now.get()).onFailure(null);
        now.addAndGet(ReplyBacklog.REDELIVERY_MS);
        assertThat(backlog.holdMs()).hasValue(ReplyBacklog.REDELIVERY_MS + ReplyBacklog.MARGIN_MS);
        now.addAndGet(1);   // never came back (dead-letter address): no longer waited for
        assertThat(backlog.holdMs()).hasValue(0);
    }

    /**
     * Where the broker watch looks at the queue, a quiet spell holds back to what the last look saw: the oldest reply
     * queued then, or the look itself; while looks fail (a broker refusing new sessions, its connections left open), the
     * hold grows with them.
     */
    @Test
    void aQuietSpellHoldsBackToWhatTheLastLookAtTheQueueSaw() {
        backlog.looksAtQueue();
        backlog.holdMs();
        backlog.taken(now.get() - 100);
        now.addAndGet(ReplyBacklog.QUIET_MS);
        assertThat(backlog.wantsQueueLook()).isTrue();
        backlog.queueLooked(now.get(), now.get() - 30_000);
        assertThat(backlog.holdMs()).as("a reply queued for 30 s, none taken").hasValue(30_000);
        assertThat(backlog.shareOwnHold()).as("the others look at the queue themselves").isEmpty();

        backlog.queueLooked(now.get(), 0);
        assertThat(backlog.holdMs()).as("drained").hasValue(0);
        now.addAndGet(20_000);   // no look succeeds meanwhile
        assertThat(backlog.holdMs()).hasValue(20_000);

        backlog.taken(now.get() - 50);
        assertThat(backlog.wantsQueueLook()).as("its consumers take replies: their lag tells").isFalse();
        assertThat(backlog.holdMs()).hasValue(50);
    }
    /**
     * After a database outage the resumed consumers may take nothing for longer than a quiet spell (a loaded machine),
     * while the replies the broker sent ahead into their buffers before and during the outage wait there, unseen by a
     * browse: the hold they had when suspended stays in force, growing, until they take a reply.
     */
    @Test
    void aQuietSpellAfterADatabaseOutageHoldsForTheRepliesKeptBackUntilTheConsumersTakeOne() {
        backlog.looksAtQueue();
        backlog.holdMs();
        backlog.taken(now.get() - 40);
        long suspendedAt = now.get();
        backlog.consumersSuspended();   // the database is unreachable
        now.addAndGet(6_000);           // replies reach the broker meanwhile, into the suspended consumers' buffers
        backlog.consumersResumed();
        assertThat(backlog.holdMs()).as("what queued meanwhile is not known yet").isEmpty();
        now.addAndGet(ReplyBacklog.QUIET_MS);   // resumed, but slow to take the first reply
        assertThat(backlog.wantsQueueLook()).isTrue();
        backlog.queueLooked(now.get(), 0);      // the browse does not see the replies in delivery to the consumers
        long keptBackFor = now.get() - (suspendedAt - 40 - ReplyBacklog.MARGIN_MS);
        assertThat(backlog.holdMs()).as("replies sent just before the outage may still wait").hasValue(keptBackFor);
        now.addAndGet(1_000);
        assertThat(backlog.holdMs()).as("still nothing taken").hasValue(keptBackFor + 1_000);

        backlog.taken(suspendedAt + 100);   // the consumers take again: their lag tells
        assertThat(backlog.holdMs()).hasValue(now.get() - suspendedAt - 100 + ReplyBacklog.MARGIN_MS);
        now.addAndGet(ReplyBacklog.QUIET_MS);
        backlog.queueLooked(now.get(), 0);
        assertThat(backlog.holdMs()).as("drained").hasValue(0);
    }

    /** Without the broker watch's looks too; a count that finds the queue empty, in delivery included, ends the hold. */
    @Test
    void repliesKeptBackByADatabaseOutageAreHeldForUntilTheQueueIsCountedEmpty() {
        backlog.holdMs();
        now.addAndGet(ReplyBacklog.QUIET_MS);
        assertThat(backlog.holdMs()).hasValue(0);
        backlog.consumersSuspended();
        assertThat(backlog.wantsQueueCount()).as("suspended: nothing to count yet").isFalse();
        now.addAndGet(3_000);
        backlog.consumersResumed();
        assertThat(backlog.holdMs()).isEmpty();
        now.addAndGet(ReplyBacklog.QUIET_MS);
        assertThat(backlog.holdMs()).hasValue(3_000 + ReplyBacklog.QUIET_MS + ReplyBacklog.MARGIN_MS);
        assertThat(backlog.wantsQueueCount()).isTrue();

        backlog.queueCountedEmpty(now.get());
        assertThat(backlog.wantsQueueCount()).isFalse();
        assertThat(backlog.holdMs()).hasValue(0);
    }

    /** An operator's suspend of the reply route keeps its consumers open too: what filled their buffers is held for. */
    @Test
    void aQuietSpellAfterAnOperatorResumedTheReplyRouteHoldsForTheRepliesKeptBack() {
        backlog.looksAtQueue();
        backlog.holdMs();
        backlog.taken(now.get() - 40);
        long suspendedAt = now.get();
        org.apache.camel.spi.RoutePolicy route = backlog.operatorStops();
        route.onSuspend(null);          // Hawtio's suspend
        now.addAndGet(6_000);           // replies reach the broker meanwhile, into the suspended consumers' buffers
        route.onResume(null);
        assertThat(backlog.holdMs()).as("what queued meanwhile is not known yet").isEmpty();
        now.addAndGet(ReplyBacklog.QUIET_MS);
        backlog.queueLooked(now.get(), 0);   // the browse does not see the replies in delivery to the consumers
        assertThat(backlog.holdMs()).as("replies sent just before the suspend may still wait")
                .hasValue(now.get() - (suspendedAt - 40 - ReplyBacklog.MARGIN_MS));
        assertThat(backlog.wantsQueueCount()).isTrue();
        backlog.queueCountedEmpty(now.get());
        assertThat(backlog.holdMs()).hasValue(0);
    }
}
