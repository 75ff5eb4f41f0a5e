package dev.agentcoordinator.api;

import dev.agentcoordinator.infra.ProducerCreditWait;
import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.ExchangePattern;
import org.apache.camel.Processor;
import org.apache.camel.ProducerTemplate;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The HTTP API's sends to the broker, each on a thread of its own, waited for a bounded time: a broker that blocks
 * producers (its disk past {@code max-disk-usage}, an address full under {@code address-full-policy} BLOCK) grants the
 * Artemis client no credits, and the client waits for them without end (logging {@code AMQ212054 … is blocked} every
 * 10 s): the HTTP call went unanswered until the server closed it, holding a Vert.x worker thread all along.
 * <p>
 * {@link #sendTo}: past the bound, a send still waiting for credits is interrupted: it has not been sent (the client
 * acquires the credits before it writes a byte), and {@link BrokerBlocksSends} says so. A send past its credits (waiting
 * for the broker to confirm a durable send, bounded by the client's {@code callTimeout}) is left to finish; when it has
 * not either, the answer says that it may still arrive. {@link #goOnWithout}: for what follows a change already
 * committed (a cancel's outcome event, a retry's requests), which is not interrupted (the engine's routes would then take
 * a failure path for a send that only waits) but left to go on once the broker grants credits, the call answered.
 * <p>
 * One pool of sender threads for each call that sends (each instance), so that a burst of one call (events posted at
 * once) does not refuse another's (a cancel). Sends that run beside each other are not limited (the HTTP workers are);
 * sends whose calls were answered while they still wait for the broker are: while {@link #MAX_WAITING_SENDS} of them
 * wait, more are refused at once rather than left waiting behind a blocked broker, a thread each.
 */
final class BoundedBrokerSend {
    static final int MAX_WAITING_SENDS = 8;
    /** Sends running at once, beyond the abandoned ones: more than the HTTP server's workers (20) run calls at once. */
    private static final int MAX_RUNNING_SENDS = 64;
    /** A send past its credits waits for the broker's confirmation: the client's callTimeout (Messaging), 10 s. */
    static final long CONFIRM_MS = 10_000;
    /**
     * Exchange property, an {@link AtomicBoolean}, shared by the exchanges of one call (a bulk cancel's split): once a
     * send of the call was given up on, its later ones are not tried (1,000 cancels would each wait out the bound).
     */
    static final String GIVEN_UP_IN_THIS_CALL = "brokerSendGivenUpInThisCall";

    /** The name of the pool's threads: api.&lt;name&gt;. */
    private final String name;
    private final long boundMs;
    /** How long a send that got past its credits is given to finish: the client's call timeout and some. */
    private final long confirmMs;
    private volatile ExecutorService senders;
    private volatile ProducerTemplate template;
    /** Sends whose calls were answered (given up on) while they still run, waiting for the broker. */
    private final java.util.concurrent.atomic.AtomicInteger abandoned = new java.util.concurrent.atomic.AtomicInteger();

    BoundedBrokerSend(String name, long boundMs, long confirmMs) {
        this.name = name;
        this.boundMs = boundMs;
        this.confirmMs = confirmMs;
    }

    /**
     * Sends a copy of the exchange to {@code uri} (a queue, or a route that sends), interrupting a send that waits for
     * credits past the bound; {@code repeat} tells the client what to do when the message may still arrive
     * ("post the event again with this event_id later …").
     */
    Processor sendTo(String uri, String repeat) {
        return exchange -> send(exchange, uri, true, repeat);
    }

    /**
     * Runs a copy of the exchange through {@code uri} (engine work after a commit), given up on past the bound while it
     * waits on; the {@link BrokerBlocksSends} says why, the caller what goes on.
     */
    Processor goOnWithout(String uri) {
        return exchange -> send(exchange, uri, false, null);
    }

    private void send(Exchange exchange, String uri, boolean interrupt, String repeat) throws Exception {
        AtomicBoolean givenUp = exchange.getProperty(GIVEN_UP_IN_THIS_CALL, AtomicBoolean.class);
        if (givenUp != null && givenUp.get()) {
            throw new BrokerBlocksSends("the broker blocks sends: an earlier send of this call waited for it past "
                    + boundMs + " ms" + (interrupt ? "; not sent" : ""), true);
        }
        try {
            sendBounded(exchange, uri, interrupt, repeat);
        } catch (BrokerBlocksSends e) {
            if (givenUp != null) {
                givenUp.set(true);
            }
            throw e;
        }
    }

    private void sendBounded(Exchange exchange, String uri, boolean interrupt, String repeat) throws Exception {
        // a copy: the HTTP call's exchange is answered and done with while a send left to go on still runs
        Exchange copy = exchange.copy();
        copy.setPattern(ExchangePattern.InOnly);
        ProducerTemplate producer = template(exchange.getContext());
        if (abandoned.get() >= MAX_WAITING_SENDS) {
            throw new BrokerBlocksSends("the broker blocks sends: " + MAX_WAITING_SENDS + " sends of this call given up on"
                    + " still wait for it" + (interrupt ? "; not sent" : ""), true);
        }
        Sending sending = new Sending();
        try {
            senders(exchange.getContext()).execute(() -> sending.run(() -> {
                Exchange sent = producer.send(uri, copy);
                if (sent.getException() != null) {
                    throw sent.getException();
                }
            }));
        } catch (RejectedExecutionException e) {
            throw new BrokerBlocksSends("the broker blocks sends: as many sends as the API runs at once are waiting for it"
                    + (interrupt ? "; not sent" : ""), true);
        }
        try {
            awaitBounded(sending, interrupt, repeat);
        } finally {
            if (!sending.outcome.isDone()) {   // answered while it runs on: counted until it ends
                abandoned.incrementAndGet();
                sending.outcome.whenComplete((ignored, failure) -> abandoned.decrementAndGet());
            }
        }
    }

    private void awaitBounded(Sending sending, boolean interrupt, String repeat) throws Exception {
        if (finished(sending, boundMs, interrupt, repeat)) {
            return;
        }
        // past the bound: a send waiting for credits is interrupted (it may reach that wait later, after a pooled
        // session or a connection came) or left waiting; one past them is given the time the client gives the broker
        // to confirm it
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(confirmMs);
        for (long left = confirmMs; left > 0; left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())) {
            if (!interrupt && sending.waitingForCredits()) {
                throw new BrokerBlocksSends("the broker blocks sends: it granted no credits to send within " + boundMs
                        + " ms (its disk past max-disk-usage, or the address full under address-full-policy BLOCK)", false);
            }
            boolean interrupted = interrupt && sending.interruptIfWaitingForCredits();
            if (finished(sending, interrupted ? left : Math.min(left, 100), interrupt, repeat)) {
                return;
            }
        }
        throw new BrokerBlocksSends("the broker did not confirm the send within " + (boundMs + confirmMs) + " ms"
                + (interrupt ? ": it may still arrive; " + repeat : ""), false);
    }

    private ProducerTemplate template(CamelContext camel) {
        if (template == null) {
            synchronized (this) {
                if (template == null) {
                    template = camel.createProducerTemplate();
                }
            }
        }
        return template;
    }

    private ExecutorService senders(CamelContext camel) throws Exception {
        if (senders == null) {
            synchronized (this) {
                if (senders == null) {
                    // Camel's: shut down with the context
                    senders = new org.apache.camel.builder.ThreadPoolBuilder(camel).poolSize(1).maxPoolSize(MAX_WAITING_SENDS + MAX_RUNNING_SENDS)
                            .maxQueueSize(0).rejectedPolicy(org.apache.camel.util.concurrent.ThreadPoolRejectedPolicy.Abort)
                            .build(this, "api." + name);
                }
            }
        }
        return senders;
    }

    /** True once the send succeeded; throws what it failed on; false while it still runs after {@code waitMs}. */
    private boolean finished(Sending sending, long waitMs, boolean interrupt, String repeat) throws Exception {
        try {
            sending.outcome.get(waitMs, TimeUnit.MILLISECONDS);
            return true;
        } catch (TimeoutException e) {
            return false;
        } catch (ExecutionException e) {
            Throwable failure = e.getCause();
            if (interrupt && waitedForCredits(failure)) {
                throw new BrokerBlocksSends("the broker blocks sends: it granted no credits to send within " + boundMs
                        + " ms (its disk past max-disk-usage, or the address full under address-full-policy BLOCK); not sent", true);
            }
            if (sending.interrupted()) {   // it had left the wait for credits as the interrupt came: sent or not, unknown
                throw new BrokerBlocksSends("the broker held the send back for " + boundMs + " ms and it was stopped as it went"
                        + " on: it may still arrive; " + repeat, false);
            }
            if (failure instanceof org.apache.camel.CamelExecutionException wrapped && wrapped.getCause() != null) {
                failure = wrapped.getCause();
            }
            if (failure instanceof Exception exception) {
                throw exception;
            }
            throw (Error) failure;
        }
    }

    /** Whether the Artemis client threw this (or its cause) while it waited for producer credits: nothing was sent. */
    static boolean waitedForCredits(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (ProducerCreditWait.in(t.getStackTrace())) {
                return true;
            }
        }
        return false;
    }

    /** A send's work, which may throw what it failed on. */
    private interface Work {
        void run() throws Exception;
    }

    /** One send on a sender thread: interrupted only while it waits for credits, never the thread's next task. */
    private static final class Sending {
        final CompletableFuture<Void> outcome = new CompletableFuture<>();
        private Thread thread;
        private boolean done;
        private boolean interrupted;

        void run(Work send) {
            synchronized (this) {
                thread = Thread.currentThread();
            }
            try {
                send.run();
                finish(null);
            } catch (Throwable t) {
                finish(t);
            }
        }

        private void finish(Throwable failure) {
            synchronized (this) {
                done = true;
                Thread.interrupted();   // an interrupt that came as the send finished is not the next task's
            }
            if (failure == null) {
                outcome.complete(null);
            } else {
                outcome.completeExceptionally(failure);
            }
        }

        synchronized boolean waitingForCredits() {
            return !done && thread != null && ProducerCreditWait.in(thread.getStackTrace());
        }

        synchronized boolean interruptIfWaitingForCredits() {
            if (!waitingForCredits()) {
                return false;
            }
            thread.interrupt();
            interrupted = true;
            return true;
        }

        synchronized boolean interrupted() {
            return interrupted;
        }
    }
}
