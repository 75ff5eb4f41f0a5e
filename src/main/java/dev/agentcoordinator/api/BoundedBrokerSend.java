package dev.agentcoordinator.api;

import org.apache.camel.Exchange;
import org.apache.camel.Processor;
import org.apache.camel.ProducerTemplate;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Sends the exchange's body to a JMS endpoint on a thread of its own and waits a bounded time for it: a broker that
 * blocks producers (its disk past {@code max-disk-usage}, an address full under {@code address-full-policy} BLOCK) grants
 * the Artemis client no credits, and the client waits for them without end (logging {@code AMQ212054 … is blocked} every
 * 10 s): the HTTP call went unanswered until the server closed it, holding a Vert.x worker thread all along. Past the
 * bound, a send still waiting for credits is interrupted: it has not been sent (the client acquires the credits before
 * it writes a byte), and {@link BrokerBlocksSends} says so. A send past its credits (waiting for the broker to confirm
 * a durable send, bounded by the client's {@code callTimeout}) is left to finish; when it has not either, the answer
 * says that it may still arrive.
 */
final class BoundedBrokerSend implements Processor {
    private final ProducerTemplate template;
    private final String uri;
    private final ExecutorService senders;
    private final long boundMs;
    /** How long a send that got past its credits is given to finish: the client's call timeout and some. */
    private final long confirmMs;

    BoundedBrokerSend(ProducerTemplate template, String uri, ExecutorService senders, long boundMs, long confirmMs) {
        this.template = template;
        this.uri = uri;
        this.senders = senders;
        this.boundMs = boundMs;
        this.confirmMs = confirmMs;
    }

    @Override
    public void process(Exchange exchange) throws Exception {
        String body = exchange.getMessage().getBody(String.class);
        Sending sending = new Sending();
        try {
            senders.execute(() -> sending.run(() -> template.sendBody(uri, body)));
        } catch (RejectedExecutionException e) {
            throw new BrokerBlocksSends("the broker blocks sends: as many sends as the API runs at once are waiting for it;"
                    + " not sent", true);
        }
        if (finished(sending, boundMs)) {
            return;
        }
        // past the bound: a send waiting for credits is interrupted (it may reach that wait later, after a pooled
        // session or a connection came); one past them is given the time the client gives the broker to confirm it
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(confirmMs);
        for (long left = confirmMs; left > 0; left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())) {
            boolean interrupted = sending.interruptIfWaitingForCredits();
            if (finished(sending, interrupted ? left : Math.min(left, 100))) {
                return;
            }
        }
        throw new BrokerBlocksSends("the broker did not confirm the send within " + (boundMs + confirmMs)
                + " ms: it may still arrive; post the event again with this event_id later (a repeated event_id starts nothing twice)", false);
    }

    /** True once the send succeeded; throws what it failed on; false while it still runs after {@code waitMs}. */
    private boolean finished(Sending sending, long waitMs) throws Exception {
        try {
            sending.outcome.get(waitMs, TimeUnit.MILLISECONDS);
            return true;
        } catch (TimeoutException e) {
            return false;
        } catch (ExecutionException e) {
            Throwable failure = e.getCause();
            if (waitedForCredits(failure)) {
                throw new BrokerBlocksSends("the broker blocks sends: it granted no credits to send within " + boundMs
                        + " ms (its disk past max-disk-usage, or the address full under address-full-policy BLOCK); not sent", true);
            }
            if (sending.interrupted()) {   // it had left the wait for credits as the interrupt came: sent or not, unknown
                throw new BrokerBlocksSends("the broker held the send back for " + boundMs + " ms and it was stopped as it went"
                        + " on: it may still arrive; post the event again with this event_id later (a repeated event_id starts"
                        + " nothing twice)", false);
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
            if (inCreditWait(t.getStackTrace())) {
                return true;
            }
        }
        return false;
    }

    /** Whether these frames are in the Artemis client's wait for producer credits (ClientProducerCreditsImpl). */
    static boolean inCreditWait(StackTraceElement[] frames) {
        for (StackTraceElement frame : frames) {
            if (frame.getClassName().startsWith("org.apache.activemq.artemis.core.client.impl.")
                    && frame.getClassName().contains("ProducerCredits") && frame.getMethodName().equals("acquireCredits")) {
                return true;
            }
        }
        return false;
    }

    /** One send on a sender thread: interrupted only while it waits for credits, never the thread's next task. */
    private static final class Sending {
        final CompletableFuture<Void> outcome = new CompletableFuture<>();
        private Thread thread;
        private boolean done;
        private boolean interrupted;

        void run(Runnable send) {
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

        synchronized boolean interruptIfWaitingForCredits() {
            if (done || thread == null || !inCreditWait(thread.getStackTrace())) {
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
