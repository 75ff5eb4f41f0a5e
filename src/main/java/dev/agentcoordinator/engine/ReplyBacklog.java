package dev.agentcoordinator.engine;

import dev.agentcoordinator.infra.EmbeddedBroker;
import org.apache.camel.Exchange;
import org.apache.camel.spi.Synchronization;
import org.apache.camel.support.SynchronizationAdapter;

import java.util.HashMap;
import java.util.Map;
import java.util.OptionalLong;
import java.util.function.LongSupplier;

/**
 * How far behind this coordinator's reply consumers are, so that the timeout sweeps do not call an
 * attempt timed out while its reply waits in the queue (after an outage, or under a burst).
 *
 * <p>The reply queue is first in, first out: when the oldest reply taken lately was sent {@code lag} ms
 * ago, every reply still queued was sent later than that. An attempt whose deadline passed more than
 * {@code lag} ms ago therefore has no reply sent in time still waiting: it did time out. One whose
 * deadline is younger may have its answer in the queue, so the sweeps hold it until the consumers
 * catch up. "Lately" spans two windows of {@link #WINDOW_MS}, and the oldest, not the last, counts:
 * each consumer works through a buffer of replies the broker sent it ahead, so the consumers are at
 * different points of the queue. A reply's age is measured from the broker's arrival stamp
 * ({@link #INGRESS_TIMESTAMP}, on addresses with Artemis' {@code enable-ingress-timestamp}, as the
 * embedded broker sets it for {@code coordinator.#}), else from its JMS timestamp, the agent's own
 * clock; a clock apart from this JVM's by more than {@link #BACKLOG_MS} shifts the hold by the
 * difference, and {@link #MAX_HOLD_MS} bounds it.
 *
 * <p>Consumers that stop taking replies (a database outage: they wait for a connection, or their
 * transaction fails and the broker delivers the reply again later) leave the lag windows empty, and
 * a quiet queue would look drained. So a reply also counts from the moment it is taken until its
 * transaction settles it ({@link #settlementOf}): while the oldest such reply, in flight or rolled
 * back and waiting for its redelivery, is older than {@link #BACKLOG_MS}, the hold covers it. Every
 * reply queued behind it was sent later.
 *
 * <p>The backlog one coordinator sees is its own: replies its consumers took ahead into their buffers are
 * invisible to another coordinator on the same queue, which would time out attempts whose replies wait there
 * (two coordinators started together after an outage: the first took the whole backlog). So each shares its
 * hold through the database ({@link #shareOwnHold}, {@link #othersHold}, reply-backlog-holds.sql), and the
 * sweeps hold for the longest of the coordinators that shared one lately.
 *
 * <p>A quiet spell ({@link #QUIET_MS} without a reply taken) is no evidence by itself that the queue is drained: after
 * a broker outage the consumers may still be reconnecting, or fail again ({@code Consumer is closed}), or a broker
 * still starting refuses their new sessions while the watch's connection stays open (a chaos run timed out 31 attempts
 * whose replies had reached the broker in time). So where the broker watch looks at the queue ({@link #looksAtQueue},
 * {@link #queueLooked}), a quiet spell holds back to what the last look saw: the arrival of the oldest reply queued
 * then, or the look's start when it found none (replies since then are not seen yet). A look that fails (no session
 * can be made) leaves the last one standing, so the hold grows until one succeeds, up to {@link #MAX_HOLD_MS}.
 *
 * <p>After a database outage the looks are no evidence either: the suspended consumers stay open, and the replies the broker
 * sent ahead into their buffers meanwhile are in delivery, which a browse does not show, while the resumed consumers may
 * take a few seconds under load to take the first of them (a CI run timed out 16 attempts whose replies had waited in the
 * queue since before the outage: the consumers took nothing for 2 s after their resume, and a look had found the queue
 * empty). So the hold the consumers had when they were suspended stays in force, growing, until they take a reply or a
 * look counts the queue empty, scheduled and in-delivery messages included ({@link #keptBackSince}). The same after an
 * operator suspended the reply route (Hawtio, JMX), which keeps its consumers open too.
 */
public final class ReplyBacklog {

    /** A reply taken this long after it was sent means replies are queued; below it, the queue is flowing. */
    static final long BACKLOG_MS = 500;
    /** Added to the lag: replies sent at about the same time are taken by several consumers at once. */
    static final long MARGIN_MS = 1_000;
    /**
     * No reply taken for this long: the lag no longer tells the backlog; what the last look at the queue saw does, or,
     * with no looks, nothing is taken to be queued (idle consumers take a reply at once).
     */
    static final long QUIET_MS = 2_000;
    /** The longest the sweeps wait for a backlog; a clock far behind must not stop timeouts for good. */
    static final long MAX_HOLD_MS = 5 * 60_000;
    static final long WINDOW_MS = 1_000;
    /**
     * How long a rolled-back reply is waited for here: the broker delivers it again within its longest redelivery delay
     * (EmbeddedBroker, docker/artemis/broker.properties), and each delivery this coordinator takes counts anew
     * ({@link #settlementOf}). One not taken here again by then went to another coordinator, whose hold covers it while it
     * is in flight there, or to the dead-letter address. (It was 60 s, the whole chain of ten deliveries: a database blip
     * that rolled back a reply on each of two coordinators, each redelivered to the other, held every attempt and execution
     * timeout for a minute.)
     */
    static final long REDELIVERY_MS = EmbeddedBroker.MAX_REDELIVERY_DELAY_MS + 2_000;
    /** The message property Artemis stamps on arrival when the address has enable-ingress-timestamp. */
    public static final String INGRESS_TIMESTAMP = "_AMQ_INGRESS_TIMESTAMP";

    /** Wall clock (epoch ms): compared with the broker's stamps and the database's times only. */
    private final LongSupplier clock;
    /**
     * Monotonic milliseconds (never 0 or less): every wait this class measures on its own (since the first sweep, since the
     * last reply, the lag windows, a pause, a rollback, the others' reading). On the wall clock a step back (NTP, a VM
     * resumed) made them negative, and the sweeps were skipped, or held a drained backlog, until it caught up.
     */
    private final LongSupplier ticks;
    private static final long TICKS_ORIGIN = System.nanoTime();
    /** When a sweep first asked: the routes start together, the consumers with the sweeps. */
    private volatile long firstAskedAt;
    private volatile long lastTakenAt;
    /** The consumers stopped taking replies while the database is unreachable ({@link DatabaseOutageBreaker}). */
    private volatile boolean consumersSuspended;
    /** The broker cannot be reached ({@link BrokerOutageWatch}): the consumers take nothing, and queued replies wait. */
    private volatile boolean brokerUnreachable;
    /** The reply route is stopped or suspended (an operator, in Hawtio or over JMX): its consumers take nothing. */
    private volatile boolean routeStopped;
    /** ... suspended: its consumers stay open, and the broker fills their buffers ({@link #keepBackBuffered}). */
    private volatile boolean routeSuspended;
    /** When the consumers last stopped taking replies (an operator's stop, an outage); 0 while they take them. */
    private volatile long pausedAt;
    /**
     * How long they took none, until the replies queued meanwhile are taken (0 then): those may be older than
     * {@link #MAX_HOLD_MS} by that much without any clock being off, so the bound is raised by it.
     */
    private volatile long pausedForMs;
    /** The largest lag taken in the current window and in the one before (guarded by this). */
    private long windowStartedAt;
    private long windowMaxLagMs;
    private long previousWindowMaxLagMs;
    /** Replies taken and not yet settled, by JMS message id (guarded by this). */
    private final Map<String, Unsettled> unsettled = new HashMap<>();
    /** Whether the other coordinators' holds are read ({@link #othersHold}): until the first read, the backlog is not known. */
    private volatile boolean shared;
    /** The longest hold another coordinator shared lately, and when it was read (0: never). */
    private volatile long othersHoldMs;
    private volatile long othersReadAt;
    /** The hold this coordinator shared last (0: none, or none worth sharing). */
    private volatile long sharedHoldMs;
    /** Whether the broker watch looks at the queue while no reply is taken: then a quiet spell holds to what it saw. */
    private volatile boolean queueLooks;
    /**
     * Wall clock (epoch ms) up to which the last look at the queue saw it: the arrival of the oldest reply queued, or the
     * look's start when none was; every reply queued then arrived since.
     */
    private volatile long queueSeenUpTo;
    /**
     * Wall clock (epoch ms) after which every reply the consumers have not taken since the database outage reached the
     * broker: when they were suspended, less the hold they had then and {@link #MARGIN_MS}; 0 when none is kept back (no
     * such pause, or since it a reply was taken or the queue counted empty).
     */
    private volatile long keptBackSince;
    /** The other coordinators' holds read longer ago than this are not taken (the reading failed since). */
    static final long OTHERS_FRESH_MS = 5_000;

    /** When a reply reached the broker, and when its transaction rolled back (0: still in flight). */
    private record Unsettled(long sentAt, long rolledBackAt) {
    }

    public ReplyBacklog() {
        this(System::currentTimeMillis, () -> (System.nanoTime() - TICKS_ORIGIN) / 1_000_000 + 1);
    }

    /** One clock for both (tests that move time forward only). */
    ReplyBacklog(LongSupplier clock) {
        this(clock, clock);
    }

    ReplyBacklog(LongSupplier clock, LongSupplier ticks) {
        this.clock = clock;
        this.ticks = ticks;
    }

    /**
     * The message on {@code exchange} was taken from the queue (it reached the broker at its ingress stamp, else
     * at its JMS timestamp): counted now, and, with its transaction, until it settles (see {@link #settlementOf}).
     */
    public void track(Exchange exchange, String messageId) {
        org.apache.camel.Message in = exchange.getMessage();
        Long arrived = in.getHeader(INGRESS_TIMESTAMP, Long.class);
        long sentAt = arrived != null ? arrived : in.getHeader("JMSTimestamp", 0L, Long.class);
        taken(sentAt);
        exchange.getExchangeExtension().addOnCompletion(settlementOf(messageId, sentAt));
    }

    /** A reply was taken from the queue; {@code sentAt}: when it reached the broker, else when it was sent (0: unknown). */
    public void taken(long sentAt) {
        if (sentAt <= 0) {
            return;
        }
        long now = clock.getAsLong();
        long tick = ticks.getAsLong();
        synchronized (this) {
            if (tick - windowStartedAt >= WINDOW_MS) {
                previousWindowMaxLagMs = tick - windowStartedAt >= 2 * WINDOW_MS ? 0 : windowMaxLagMs;
                windowMaxLagMs = 0;
                windowStartedAt = tick;
            }
            windowMaxLagMs = Math.max(windowMaxLagMs, now - sentAt);
            // under the lock that a suspension sets keptBackSince and its flag under: a reply taken just as the consumers
            // are suspended must not clear what the suspension just kept back
            if (!buffersKept()) {
                keptBackSince = 0;   // the consumers take again: their lag tells what they kept back
            }
        }
        lastTakenAt = tick;
    }

    /**
     * Counts the reply from now until the returned callback, attached to the reply's exchange, sees its
     * transaction commit (the step's transition is then in the database) or roll back (the broker
     * will deliver it again).
     */
    public Synchronization settlementOf(String messageId, long sentAt) {
        if (messageId == null) {
            return new SynchronizationAdapter();
        }
        long since = sentAt > 0 ? sentAt : clock.getAsLong();
        synchronized (this) {
            unsettled.put(messageId, new Unsettled(since, 0));
        }
        return new SynchronizationAdapter() {
            @Override
            public void onComplete(Exchange exchange) {
                settled(messageId);
            }

            @Override
            public void onFailure(Exchange exchange) {
                rolledBack(messageId);
            }
        };
    }

    synchronized void settled(String messageId) {
        unsettled.remove(messageId);
    }

    synchronized void rolledBack(String messageId) {
        unsettled.computeIfPresent(messageId, (id, reply) -> new Unsettled(reply.sentAt(), ticks.getAsLong()));
    }

    /**
     * Age of the oldest reply taken and not settled, those rolled back included or not; 0 when there is none. Drops
     * rollbacks not redelivered in time.
     */
    private synchronized long oldestUnsettledAge(long now, long tick, boolean rolledBackToo) {
        if (unsettled.isEmpty()) {
            return 0;
        }
        unsettled.values().removeIf(reply -> reply.rolledBackAt() > 0 && tick - reply.rolledBackAt() > REDELIVERY_MS);
        long oldest = now;
        for (Unsettled reply : unsettled.values()) {
            if (rolledBackToo || reply.rolledBackAt() == 0) {
                oldest = Math.min(oldest, reply.sentAt());
            }
        }
        return now - oldest;
    }

    /** The reply consumers stop taking replies (the database is unreachable): no sweep can tell the backlog now. */
    public synchronized void consumersSuspended() {
        if (!consumersSuspended) {
            keepBackBuffered();
        }
        paused();
        consumersSuspended = true;
    }

    /**
     * Suspended consumers stay open, and the broker goes on filling their buffers, which a browse does not show: what
     * reached the broker after the hold in force now is kept back ({@link #keptBackSince}).
     */
    private void keepBackBuffered() {
        if (keptBackSince == 0 && !buffersKept()) {
            // a hold not known (the broker unreachable, the start) is left to the rules that cover those
            ownHoldMs(true, true).ifPresent(hold -> keptBackSince = clock.getAsLong() - hold - MARGIN_MS);
        }
    }

    /** Whether the consumers are suspended, open, by a database outage or by an operator: replies fill their buffers. */
    private boolean buffersKept() {
        return consumersSuspended || routeSuspended;
    }

    /**
     * They take replies again: as at the start, the backlog is unknown until the first reply or
     * {@link #QUIET_MS} without one (the replies kept back may be queued, and those rolled back may be
     * older than {@link #REDELIVERY_MS} by now); a quiet spell then holds back to the replies kept back
     * ({@link #keptBackSince}) until a reply is taken or the queue is counted empty.
     */
    public void consumersResumed() {
        backlogUnknownAgain();
        consumersSuspended = false;
        unpaused();
    }

    /** As at the start: unknown until the first reply or {@link #QUIET_MS} without one. */
    private void backlogUnknownAgain() {
        lastTakenAt = 0;
        firstAskedAt = 0;
    }

    /** The broker cannot be reached: replies sent before may be queued there, none is taken, no request leaves. */
    public void brokerUnreachable() {
        paused();
        brokerUnreachable = true;
    }

    /** The broker answers again: as after {@link #consumersResumed}, the backlog is unknown until a reply or a quiet spell. */
    public void brokerReachable() {
        backlogUnknownAgain();
        brokerUnreachable = false;
        unpaused();
    }

    /**
     * For the reply route: while an operator has it stopped or suspended (Hawtio, JMX), the replies wait in their queue
     * and no sweep can tell how long, as while the database is unreachable; once it runs again, as after
     * {@link #consumersResumed}. Before, the timeout sweeps went on and failed attempts whose replies had come in time.
     */
    public org.apache.camel.spi.RoutePolicy operatorStops() {
        return new org.apache.camel.support.RoutePolicySupport() {
            @Override
            public void onStop(org.apache.camel.Route route) {
                paused();
                routeStopped = true;
            }

            @Override
            public void onSuspend(org.apache.camel.Route route) {
                // a suspended route keeps its consumers open (a stopped one closes them, their buffers going back to
                // the queue, where a look sees them)
                synchronized (ReplyBacklog.this) {
                    keepBackBuffered();
                    paused();
                    routeStopped = true;
                    routeSuspended = true;
                }
            }

            @Override
            public void onStart(org.apache.camel.Route route) {
                routeRunsAgain();
            }

            @Override
            public void onResume(org.apache.camel.Route route) {
                routeRunsAgain();
            }
        };
    }

    private void routeRunsAgain() {
        if (routeStopped) {
            backlogUnknownAgain();
            routeStopped = false;
            routeSuspended = false;
            unpaused();
        }
    }

    private synchronized void paused() {
        if (pausedAt == 0) {
            pausedAt = ticks.getAsLong();
        }
    }

    /** Once nothing keeps the consumers from taking replies: the bound on the hold grows by the pause, until it drained. */
    private synchronized void unpaused() {
        if (pausedAt != 0 && !consumersSuspended && !brokerUnreachable && !routeStopped) {
            pausedForMs = Math.max(pausedForMs, ticks.getAsLong() - pausedAt);
            pausedAt = 0;
        }
    }

    /** The longest hold: {@link #MAX_HOLD_MS}, and the last pause while what it left queued is being taken. */
    private long maxHoldMs() {
        return MAX_HOLD_MS + pausedForMs;
    }

    /**
     * Before a sweep that judges deadlines (attempts, executions, lock waits, agent messages): the hold as header
     * {@link Headers#HOLD_MS}, which its statement subtracts from now, and when it was judged as header
     * {@link Headers#SWEPT_AT_MS}: a statement that waited for a connection meanwhile (replies piling up
     * behind the same pool) reaches no further than the hold could see. The sweep is skipped while the
     * backlog is not known.
     */
    public void holdSweep(org.apache.camel.Exchange exchange) {
        OptionalLong hold = holdMs();
        if (hold.isEmpty()) {
            exchange.setRouteStop(true);
        } else {
            exchange.getMessage().setHeader(Headers.HOLD_MS, hold.getAsLong());
            exchange.getMessage().setHeader(Headers.SWEPT_AT_MS, clock.getAsLong());
        }
    }

    /** Whether the broker is known to be unreachable: requests sent now would wait for it (the retry sweep waits too). */
    public boolean isBrokerUnreachable() {
        return brokerUnreachable;
    }

    /**
     * How long past its deadline an attempt (or an execution) must be before the sweeps may settle it
     * as timed out; empty while that is not known yet: from the first sweep until the first reply or
     * {@link #QUIET_MS} without one, since a backlog left by an outage may be waiting, and while the
     * consumers are suspended or the broker cannot be reached.
     */
    public OptionalLong holdMs() {
        OptionalLong own = ownHoldMs(true, true);
        if (own.isEmpty() || !shared) {
            return own;
        }
        long tick = ticks.getAsLong();
        if (othersReadAt == 0) {
            // not known yet; a reading that never succeeds must not stop the timeouts for good
            return tick - firstAskedAt < QUIET_MS + OTHERS_FRESH_MS ? OptionalLong.empty() : own;
        }
        long others = tick - othersReadAt <= OTHERS_FRESH_MS ? othersHoldMs : 0;
        // own is bounded already; another coordinator's was bounded by it (it may be draining a longer pause's replies)
        return OptionalLong.of(Math.max(own.getAsLong(), others));
    }

    /** From now on the sweeps hold for the other coordinators' holds too, once {@link #othersHold} has read them. */
    public void shareWithOtherCoordinators() {
        shared = true;
    }

    /**
     * The hold to share with the other coordinators now, or empty when there is nothing to share: this coordinator's
     * own is not known, or it is 0 and 0 was shared already (a quiet coordinator writes nothing).
     */
    public OptionalLong shareOwnHold() {
        // not a reply rolled back here: the broker delivers it again to any coordinator, which then sees its age itself
        // (one another coordinator settled meanwhile would hold every coordinator's timeouts for REDELIVERY_MS)
        // a flowing queue's small hold too: another coordinator's sweep cannot see a reply this one is reading or
        // settling (two coordinators timed out 9 and 3 of 2,400 replies sent in time while only holds of a backlog were
        // shared); the statement that reads the others' holds runs every SHARE_HOLD_MS anyway, the write only joins it
        // nor what this coordinator's looks at the queue saw: the others look at the same queue themselves
        OptionalLong own = ownHoldMs(false, false);
        if (own.isEmpty() || (own.getAsLong() == 0 && sharedHoldMs == 0)) {
            return OptionalLong.empty();
        }
        sharedHoldMs = own.getAsLong();
        return own;
    }

    /**
     * The broker watch looks at this backlog's queue from now on whenever {@link #wantsQueueLook} (see the class
     * comment); until its first look succeeds, the queue counts as seen up to now.
     */
    public void looksAtQueue() {
        queueSeenUpTo = clock.getAsLong();
        queueLooks = true;
    }

    /** The broker no longer shows the queue (a user without the browse permission): quiet spells as without looks. */
    public void queueLooksRefused() {
        queueLooks = false;
    }

    /**
     * A look tried again after {@link #queueLooksRefused} was allowed, saw what {@link #queueLooked} says: from now on a
     * quiet spell holds back to the looks again.
     */
    public void queueLooksAllowed(long startedAt, long oldestArrivedAt) {
        queueLooked(startedAt, oldestArrivedAt);
        queueLooks = true;
    }

    /** Whether a look refused before is worth trying again now: the consumers could take replies. */
    public boolean wantsRefusedLookTried() {
        return !consumersSuspended && !brokerUnreachable && !routeStopped;
    }

    /**
     * Whether a look at the queue is worth its round trips now: the consumers can take replies but took none for a
     * {@link #WINDOW_MS} (while they take them, their lag tells the backlog).
     */
    public boolean wantsQueueLook() {
        if (!queueLooks || consumersSuspended || brokerUnreachable || routeStopped) {
            return false;
        }
        long takenAt = lastTakenAt;
        return takenAt == 0 || ticks.getAsLong() - takenAt >= WINDOW_MS;
    }

    /** Wall clock now, to stamp the start of a look at the queue ({@link #queueLooked}). */
    public long now() {
        return clock.getAsLong();
    }

    /**
     * A look at the queue that started at {@code startedAt} (from {@link #now}) saw the oldest reply queued arrive at
     * {@code oldestArrivedAt} (its arrival stamp, else its JMS timestamp), or none (0).
     */
    public void queueLooked(long startedAt, long oldestArrivedAt) {
        queueSeenUpTo = oldestArrivedAt > 0 ? Math.min(startedAt, oldestArrivedAt) : startedAt;
    }

    /**
     * Whether a look should also count the queue: replies are kept back since a database outage ({@link #keptBackSince}),
     * which a browse cannot see while they wait in the consumers' buffers.
     */
    public boolean wantsQueueCount() {
        return keptBackSince != 0 && !buffersKept();
    }

    /**
     * A count that started at {@code startedAt} (from {@link #now}) found no message in the queue, neither queued nor in
     * delivery nor scheduled for redelivery: nothing is kept back, and the queue is seen up to then.
     */
    public synchronized void queueCountedEmpty(long startedAt) {
        if (!buffersKept()) {
            keptBackSince = 0;
            queueSeenUpTo = startedAt;
        }
    }

    /** The longest hold another coordinator shared lately (0: none), as just read from the database. */
    public void othersHold(long holdMs) {
        othersHoldMs = holdMs;
        othersReadAt = ticks.getAsLong();
    }

    /**
     * This coordinator's own hold, from what its consumers took (see the class comment), its rollbacks counted or not,
     * and a quiet spell read by the looks at the queue or as no backlog.
     */
    private OptionalLong ownHoldMs(boolean rolledBackToo, boolean byQueueLooks) {
        if (consumersSuspended || brokerUnreachable || routeStopped) {
            return OptionalLong.empty();
        }
        long now = clock.getAsLong();
        long tick = ticks.getAsLong();
        if (firstAskedAt == 0) {
            firstAskedAt = tick;
        }
        long takenAt = lastTakenAt;
        if (takenAt == 0 && tick - firstAskedAt < QUIET_MS) {
            return OptionalLong.empty();
        }
        long lag = 0;
        if (takenAt != 0) {
            if (tick - takenAt < QUIET_MS) {
                synchronized (this) {
                    lag = Math.max(windowMaxLagMs, previousWindowMaxLagMs);
                }
            }
            lag = Math.max(lag, oldestUnsettledAge(now, tick, rolledBackToo));
        }
        // a reply taken lately speaks for the queue; a quiet spell only for what the last look at the queue saw
        boolean quiet = takenAt == 0 || tick - takenAt >= QUIET_MS;
        long unseen = byQueueLooks && queueLooks && quiet ? now - queueSeenUpTo : 0;
        long keptBack = keptBackSince;
        if (keptBack != 0 && quiet) {
            // replies kept back in the consumers' buffers since a database outage: neither the quiet nor a browse tells them
            unseen = Math.max(unseen, now - keptBack);
        }
        if (pausedForMs > 0 && Math.max(lag, unseen) + MARGIN_MS < MAX_HOLD_MS) {
            pausedForMs = 0;   // what the pause left queued has been taken
        }
        if (lag < BACKLOG_MS) {
            // the queue flows; still, a reply that reached the broker just before its attempt's deadline may be read or
            // settling now: holding as long as replies lately took to be taken, or the oldest in flight has been on
            // its way, leaves its attempt to it
            return OptionalLong.of(Math.min(maxHoldMs(), Math.max(Math.max(lag, 0), unseen)));
        }
        // no margin for the unseen part: the look's stamps bound it exactly
        return OptionalLong.of(Math.min(maxHoldMs(), Math.max(lag + MARGIN_MS, unseen)));
    }
}
