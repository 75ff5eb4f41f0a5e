package dev.agentcoordinator.engine;

import dev.agentcoordinator.config.CoordinatorSettings;
import dev.agentcoordinator.infra.CamelRuntime;
import dev.agentcoordinator.infra.ProducerCreditWait;
import org.apache.camel.Exchange;

import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * A bound on how long an engine route's send to the broker waits for producer credits. A broker that blocks producers
 * on an address (full under {@code address-full-policy} BLOCK: an agent gone while its requests pile up; or its disk
 * past {@code max-disk-usage}) grants the Artemis client no credits, and the client waits for them without end (logging
 * {@code AMQ212054 … is blocked} every 10 s). A request to one agent whose queue was full held the event or reply
 * consumer, or the sweeps' one timer thread, that sent it: with four such requests no event and no reply was taken any
 * more, and with replies left queued the timeout sweeps held too, so executions on every other agent stood still.
 * <p>
 * Past {@code coordinator.health.timeout-ms}, a send still waiting for credits is interrupted: the client acquires them
 * before it writes a byte, so nothing was sent, and the send fails as one the broker refused
 * ({@link #givenUp}): the paths of a failed send take over (a message's rollback and redelivery, a lease made due for
 * the retry sweep), and the request leaves once the broker takes sends again.
 */
final class CreditWaitBound {
    /** Exchange property: the watch of the send in progress. */
    private static final String WATCH = "creditWaitWatch";
    /** Exchange property of the routes that send with toD (the retry sweep, compensations): the queue they send to. */
    static final String AGENT_QUEUE = "agentQueue";
    /** How often a send past its bound is looked at again (one not yet in the wait for credits may reach it). */
    private static final long RECHECK_MS = 100;
    private static final long DEFAULT_BOUND_MS = 2000;
    /** One daemon thread for every coordinator in the JVM: it only looks at threads and interrupts them. */
    private static final ScheduledExecutorService WATCHDOG = watchdog();

    private static ScheduledExecutorService watchdog() {
        ScheduledThreadPoolExecutor watchdog = new ScheduledThreadPoolExecutor(1, runnable -> {
            Thread thread = new Thread(runnable, "coordinator-credit-wait-bound");
            thread.setDaemon(true);
            return thread;
        });
        watchdog.setRemoveOnCancelPolicy(true);   // a watch per request sent: the ended ones do not wait out their bound queued
        return watchdog;
    }

    private CreditWaitBound() {
    }

    /** Before the send: watched from now on, on this thread. */
    static void watch(Exchange exchange) {
        long boundMs = boundMs(exchange);
        Watch watch = new Watch(Thread.currentThread());
        exchange.setProperty(WATCH, watch);
        watch.future = WATCHDOG.scheduleWithFixedDelay(watch::interruptIfWaitingForCredits, boundMs, RECHECK_MS, TimeUnit.MILLISECONDS);
    }

    /**
     * After the send (it went, or it failed): no longer watched, and an interrupt of this watch cleared from the thread;
     * the queue of a send given up on (its failure is the client's interruption: raise {@link #givenUp} instead), else null.
     */
    static String unwatch(Exchange exchange) {
        Watch watch = (Watch) exchange.removeProperty(WATCH);
        if (watch == null || !watch.stop()) {
            return null;
        }
        Object endpoint = exchange.getProperty(Exchange.FAILURE_ENDPOINT);
        // a toD's failure endpoint is its template (jms://queue:$%7BexchangeProperty.agentQueue%7D?…): the property names it
        if (endpoint == null || endpoint.toString().contains("%7B") || endpoint.toString().contains("${")) {
            Object queue = exchange.getProperty(AGENT_QUEUE);
            return queue == null ? "its queue" : queue.toString();
        }
        return addressOf(endpoint.toString());
    }

    /** What a send given up on fails with: a refusal, as the attempt's record and its timeout then tell. */
    static Exception givenUp(String address, Exchange exchange) {
        long boundMs = boundMs(exchange);
        return new jakarta.jms.JMSException("the broker blocks sends to " + address + ": it granted no credits within " + boundMs
                + " ms (the address full under address-full-policy BLOCK, or the broker's disk past max-disk-usage); not sent");
    }

    /** The queue of a JMS endpoint URI ({@code jms://queue:agent.x?…}). */
    static String addressOf(String endpointUri) {
        int queue = endpointUri.indexOf("queue:");
        String address = queue < 0 ? endpointUri : endpointUri.substring(queue + "queue:".length());
        int parameters = address.indexOf('?');
        return parameters < 0 ? address : address.substring(0, parameters);
    }

    private static long boundMs(Exchange exchange) {
        CoordinatorSettings settings = exchange.getContext().getRegistry().lookupByNameAndType(CamelRuntime.SETTINGS, CoordinatorSettings.class);
        return settings == null ? DEFAULT_BOUND_MS : settings.healthTimeoutMs();
    }

    /** One send: its thread is interrupted only while it waits for credits, and never after the send ended. */
    private static final class Watch {
        private final Thread thread;
        private volatile ScheduledFuture<?> future;
        private boolean done;
        private boolean interrupted;

        Watch(Thread thread) {
            this.thread = thread;
        }

        synchronized void interruptIfWaitingForCredits() {
            if (done || interrupted) {
                return;
            }
            if (ProducerCreditWait.in(thread.getStackTrace())) {
                interrupted = true;
                thread.interrupt();
            }
        }

        /** Ends the watch on the send's own thread; true when it interrupted the send. */
        boolean stop() {
            ScheduledFuture<?> scheduled = future;
            if (scheduled != null) {
                scheduled.cancel(false);
            }
            synchronized (this) {
                done = true;
                if (interrupted) {
                    Thread.interrupted();   // the client set the flag again as it threw: not for what the thread does next
                }
                return interrupted;
            }
        }
    }
}
