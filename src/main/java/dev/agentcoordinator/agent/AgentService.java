package dev.agentcoordinator.agent;

import jakarta.jms.ConnectionFactory;
import jakarta.jms.JMSException;
import jakarta.jms.JMSRuntimeException;
import org.apache.activemq.artemis.jms.client.ActiveMQConnectionFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;

/**
 * An agent: answers the step requests on queue {@code agent.<name>} with its action handlers.
 *
 * <pre>{@code
 * try (AgentService interviewer = AgentService.builder(connectionFactory, "interviewer")
 *         .concurrency(4)
 *         .handle("analyze_transcript", request -> AgentReply.ok(Map.of("score", 80)))
 *         .start()) {
 *     ...
 * }
 * }</pre>
 *
 * Each of the {@code concurrency} consumers has its own connection and transacted session: a
 * request is acknowledged together with its reply. Delivery is at-least-once, so handlers should
 * be idempotent. {@link #close()} stops taking requests and lets the in-flight ones finish.
 */
public final class AgentService implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(AgentService.class);

    private final String agentName;
    private final Duration shutdownTimeout;
    private final CountDownLatch stopRequested = new CountDownLatch(1);
    /** Taken by the one close() that stops the workers and takes the size bound's interceptor off the factory. */
    private final AtomicBoolean closing = new AtomicBoolean();
    /** Counted down once that close() is done: another one returns only then. */
    private final CountDownLatch closed = new CountDownLatch(1);
    private final List<RequestWorker> workers = new ArrayList<>();
    private final List<Thread> threads = new ArrayList<>();
    private final AgentMessenger messenger;
    /** The messenger's use this service holds: the messenger stays open while another service of the builder holds one. */
    private final int messengerUse;
    private final Heartbeats heartbeats;
    /** On the connection factory while the service runs: taken off it at close, once. */
    private final MessageSizeBound sizeBound;

    private AgentService(String agentName, Duration shutdownTimeout, AgentMessenger messenger, int messengerUse, Heartbeats heartbeats,
                         MessageSizeBound sizeBound) {
        this.agentName = agentName;
        this.shutdownTimeout = shutdownTimeout;
        this.messenger = messenger;
        this.messengerUse = messengerUse;
        this.heartbeats = heartbeats;
        this.sizeBound = sizeBound;
    }

    private static final java.util.regex.Pattern AGENT_NAME = java.util.regex.Pattern.compile("[a-z][a-z0-9_-]{0,99}");

    /**
     * An agent name as the coordinator takes it in definitions and messages: lower-case letters, digits, {@code _}
     * and {@code -}, starting with a letter, at most 100 characters, and neither {@code events} nor {@code messages},
     * whose queues are the coordinator's own (its AgentNames.RESERVED: the SDK depends on nothing of the coordinator's).
     * Any other name would start a service whose messages the coordinator refuses.
     */
    static String checkedAgentName(String name, String what) {
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException(what + " must not be blank");
        }
        if (!AGENT_NAME.matcher(name).matches()) {
            throw new IllegalArgumentException(what + " \"" + name + "\" is not an agent name: lower-case letters, digits, _ and -,"
                    + " starting with a letter, at most 100 characters");
        }
        if (name.equals("events") || name.equals("messages")) {
            throw new IllegalArgumentException(what + " \"" + name + "\" is reserved: agent." + name + " is the coordinator's queue");
        }
        return name;
    }

    public static Builder builder(ConnectionFactory connectionFactory, String agentName) {
        return new Builder(connectionFactory, agentName);
    }

    /** The queue an agent consumes: {@code agent.<agent>}. */
    public static String queueName(String agentName) {
        return "agent." + agentName;
    }

    /**
     * An Artemis connection factory suited to agents: {@code consumerWindowSize=0} unless the URL
     * sets it, so a consumer busy with a slow request does not hold back requests that an idle
     * consumer could take.
     */
    public static ActiveMQConnectionFactory artemisConnectionFactory(String brokerUrl) {
        ActiveMQConnectionFactory factory = new ActiveMQConnectionFactory(brokerUrl);
        if (!brokerUrl.contains("consumerWindowSize")) {
            factory.setConsumerWindowSize(0);
        }
        return factory;
    }

    public String agentName() {
        return agentName;
    }

    /**
     * Sends messages to other agents as this agent (connects on first use); the builder's, shared by the services it
     * started, closed with the last of them that runs (its own close() meanwhile leaves it open for them).
     */
    public AgentMessenger messenger() {
        return messenger;
    }

    /** True from start() until close() is called. */
    public boolean isRunning() {
        return stopRequested.getCount() > 0;
    }

    /**
     * Stops taking new requests, waits up to the shutdown timeout for in-flight handlers to reply,
     * then closes the connections. A request still running after the timeout is rolled back, so the
     * broker redelivers it to another consumer. A call during or after another (a shutdown hook and a
     * try-with-resources) returns once the service is closed; one from inside a handler does not wait for that handler.
     */
    @Override
    public void close() {
        // one close() does the work: two at once both took the interceptor off, the second one a later service's
        // of the same builder (the bound counts its installs, not who made them)
        if (!closing.compareAndSet(false, true)) {
            closeAgain();
            return;
        }
        try {
            stop();
        } finally {
            closed.countDown();
        }
    }

    /**
     * A close() after or during another: returns once that one is done and the workers have ended (within the shutdown
     * timeout), taking nothing off the factory again.
     */
    private void closeAgain() {
        long deadlineNanos = System.nanoTime() + shutdownTimeout.toNanos();
        // from inside a handler: its worker must get back to send its reply, which the first close() may be waiting for
        if (!threads.contains(Thread.currentThread())) {
            try {
                closed.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
        awaitWorkers(deadlineNanos);
        messenger.closeUse(messengerUse);
        heartbeats.close();
    }

    private void stop() {
        stopRequested.countDown();
        LOG.info("agent {}: stopping, waiting up to {} for in-flight requests", agentName, shutdownTimeout);
        // a worker without a request, or whose broker went away, has nothing to finish: blocked in the client's
        // reconnection, it would take the whole timeout
        workers.forEach(RequestWorker::stopUnlessAtWork);
        awaitWorkers(System.nanoTime() + shutdownTimeout.toNanos());
        for (int i = 0; i < threads.size(); i++) {
            // close() called from inside a handler: that worker sends its reply, commits and then stops on its own
            if (threads.get(i).isAlive() && threads.get(i) != Thread.currentThread()) {
                LOG.warn("agent {}: {} still busy after {}, rolling its request back for redelivery",
                        agentName, threads.get(i).getName(), shutdownTimeout);
                // connection first: a handler woken by the interrupt must not get its reply out any more
                workers.get(i).closeConnection();
                threads.get(i).interrupt();
            }
        }
        messenger.closeUse(messengerUse);
        heartbeats.close();
        sizeBound.uninstall();
        LOG.info("agent {}: stopped", agentName);
    }

    private void awaitWorkers(long deadlineNanos) {
        for (Thread thread : threads) {
            if (thread == Thread.currentThread()) {
                continue; // close() called from inside a handler: do not wait for ourselves
            }
            try {
                long remainingMillis = TimeUnit.NANOSECONDS.toMillis(deadlineNanos - System.nanoTime());
                if (remainingMillis > 0) {
                    thread.join(remainingMillis);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /** The client's own words are on the innermost cause ("Failed to create session factory" wraps "AMQ219007: Cannot connect …"). */
    private static String rootMessage(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root == e ? String.valueOf(e.getMessage()) : e.getMessage() + " (" + root.getMessage() + ")";
    }

    private void startWorkers(ConnectionFactory connectionFactory, ActionDispatcher dispatcher,
                              MessageDispatcher messageDispatcher, int concurrency, JsonTokenBound jsonBound,
                              MessageSizeBound sizeBound) {
        String queue = queueName(agentName);
        try {
            for (int i = 0; i < concurrency; i++) {
                RequestWorker worker = new RequestWorker(queue, connectionFactory, dispatcher, messageDispatcher, stopRequested, heartbeats, jsonBound, sizeBound);
                worker.open();
                workers.add(worker);
            }
            for (int i = 0; i < workers.size(); i++) {
                Thread thread = new Thread(workers.get(i), "agent-" + agentName + "-" + (i + 1));
                threads.add(thread);
                thread.start();
            }
        } catch (JMSException | RuntimeException | Error e) {
            // an Error too (a class of the client missing, no thread left): a consumer left connected takes requests
            // into its window that nobody handles; the workers already running end with the stop
            stopRequested.countDown();
            workers.forEach(RequestWorker::closeConnection);
            if (e instanceof Error error) {
                throw error;
            }
            throw new JMSRuntimeException("agent " + agentName + " cannot consume " + queue + ": " + rootMessage(e),
                    null, e);
        }
        LOG.info("agent {}: {} consumer(s) on {}", agentName, concurrency, queue);
    }

    /**
     * Collects handlers and settings; {@link #start()} connects and begins consuming. Once a service has started, the
     * settings are fixed: a setter then throws {@link IllegalStateException} naming itself. start() may be called again
     * (after the first service closed, or while it runs): the next service runs with the same settings and the same
     * messenger, which stays open until the last running service is closed.
     */
    public static final class Builder {

        private final ConnectionFactory connectionFactory;
        private final String agentName;
        private final Map<String, ActionHandler> handlers = new LinkedHashMap<>();
        private final Map<String, MessageHandler> messageHandlers = new LinkedHashMap<>();
        private AgentMessenger messenger;
        private int concurrency = 1;
        private Duration shutdownTimeout = Duration.ofSeconds(30);
        private Duration heartbeatInterval;
        private JsonTokenBound jsonBound = JsonTokenBound.DEFAULT;
        private MessageSizeBound sizeBound = new MessageSizeBound(MessageSizeBound.DEFAULT_MAX_BYTES, MessageSizeBound.SERVICE_OPTION);
        /** Set by the first start() that returns a service: the settings are that service's from then on. */
        private volatile boolean started;

        private Builder(ConnectionFactory connectionFactory, String agentName) {
            this.connectionFactory = Objects.requireNonNull(connectionFactory, "connectionFactory");
            this.agentName = checkedAgentName(agentName, "agent name");
        }

        /** How many requests this service handles at the same time (consumers on the queue). */
        public Builder concurrency(int consumers) {
            refuseAfterStart("concurrency");
            if (consumers < 1) {
                throw new IllegalArgumentException("concurrency of agent " + agentName + " must be >= 1, was " + consumers);
            }
            this.concurrency = consumers;
            return this;
        }

        /** How long close() waits for in-flight requests (default 30 s). */
        public Builder shutdownTimeout(Duration timeout) {
            refuseAfterStart("shutdownTimeout");
            this.shutdownTimeout = Objects.requireNonNull(timeout, "timeout");
            return this;
        }

        /**
         * While a handler works on a request, tells the coordinator every {@code interval} that the
         * attempt is still being worked on ({@code {"status": "running"}}): its deadline then counts the
         * step's {@code timeout_ms} from the latest heartbeat, so a long piece of work needs no timeout
         * sized for its worst case. Choose an interval well below the step's timeout. Off by default.
         * When the coordinator answers a heartbeat with a stop (the attempt timed out, its execution was
         * cancelled), the handler's thread is interrupted and its reply is not sent, unless the stop asks for it
         * ({@code "reply_wanted": true}: a cancel's undo of the step waits to learn what was done), when what the
         * handler returns after the interrupt is sent.
         */
        public Builder heartbeatEvery(Duration interval) {
            refuseAfterStart("heartbeatEvery");
            Objects.requireNonNull(interval, "interval");
            if (interval.toMillis() < 1) {
                throw new IllegalArgumentException("heartbeat interval of agent " + agentName + " must be at least 1 ms, was " + interval);
            }
            this.heartbeatInterval = interval;
            return this;
        }

        /**
         * The most JSON tokens (keys, values, brackets: {@code {"a": [1, 2]}} is 6; at least 1,000) read of one request,
         * agent message or response (default 1,000,000, the coordinator's default {@code coordinator.input.max-json-tokens}):
         * the parser stops past it, and such a request is answered with a non-retryable error naming this option. A
         * request carries the outputs its input mappings name, each within the coordinator's bound: an agent whose
         * steps take several large outputs needs more than the coordinator's setting.
         */
        public Builder maxJsonTokens(int tokens) {
            refuseAfterStart("maxJsonTokens");
            this.jsonBound = new JsonTokenBound(tokens, JsonTokenBound.SERVICE_OPTION);   // one mapper for all the consumers
            if (messenger != null) {
                messenger.readWithin(jsonBound);
            }
            return this;
        }

        /**
         * The most bytes of one request, agent message or response read (default 40 MiB, the coordinator's default
         * {@code coordinator.input.max-message-bytes}; at least 64 KiB; a TextMessage's text takes 2 bytes a character
         * on the broker): a longer request is answered with a non-retryable error naming this option, without its body
         * being read (on an Artemis connection factory the broker's length is checked before the client decodes it). A
         * request carries the outputs its input mappings name, each within the coordinator's bound: an agent whose steps
         * take several large outputs needs more than the coordinator's setting.
         */
        public Builder maxMessageBytes(int bytes) {
            refuseAfterStart("maxMessageBytes");
            this.sizeBound = new MessageSizeBound(bytes, MessageSizeBound.SERVICE_OPTION);
            if (messenger != null) {
                messenger.readWithin(sizeBound);
            }
            return this;
        }

        public Builder handle(String action, ActionHandler handler) {
            refuseAfterStart("handle");
            Objects.requireNonNull(handler, "handler");
            if (action == null || action.isBlank()) {
                throw new IllegalArgumentException("action name of agent " + agentName + " must not be blank");
            }
            if (handlers.putIfAbsent(action, handler) != null) {
                throw new IllegalArgumentException("agent " + agentName + " already has a handler for action " + action);
            }
            return this;
        }

        /**
         * Answers messages of {@code type} from other agents (delivered on the same queue as step
         * requests, marked with JMS property {@code message_kind=agent_message}).
         */
        public Builder onMessage(String type, MessageHandler handler) {
            refuseAfterStart("onMessage");
            Objects.requireNonNull(handler, "handler");
            if (type == null || type.isBlank()) {
                throw new IllegalArgumentException("message type of agent " + agentName + " must not be blank");
            }
            if (messageHandlers.putIfAbsent(type, handler) != null) {
                throw new IllegalArgumentException("agent " + agentName + " already has a handler for message type " + type);
            }
            return this;
        }

        /**
         * The messenger the service will send with, available before start() so that handlers can
         * capture it: {@code AgentMessenger m = builder.messenger(); builder.handle("a", r -> ... m.ask(...) ...)}. The
         * services started close it with the last of them; its close() while one runs leaves it open for them.
         */
        public AgentMessenger messenger() {
            if (messenger == null) {
                messenger = new AgentMessenger(connectionFactory, agentName, jsonBound, sizeBound);
            }
            return messenger;
        }

        /** A handler that only computes the output; same as {@code handle(action, r -> AgentReply.ok(f.apply(r)))}. */
        public Builder handleOutput(String action, Function<AgentRequest, ? extends Map<String, ?>> outputFunction) {
            refuseAfterStart("handleOutput");
            Objects.requireNonNull(outputFunction, "outputFunction");
            return handle(action, request -> AgentReply.ok(outputFunction.apply(request)));
        }

        /**
         * Connects {@code concurrency} consumers to {@code agent.<name>} and starts them.
         *
         * @throws JMSRuntimeException when the broker cannot be reached or the queue not consumed
         */
        public AgentService start() {
            if (handlers.isEmpty() && messageHandlers.isEmpty()) {
                throw new IllegalStateException("agent " + agentName + " has no handlers: call handle(action, handler)"
                        + " or onMessage(type, handler) before start()");
            }
            if (connectionFactory instanceof ActiveMQConnectionFactory artemis && artemis.getConsumerWindowSize() != 0) {
                LOG.info("agent {}: the connection factory prefetches requests (consumerWindowSize={}); "
                                + "consumerWindowSize=0 spreads slow requests fairly over consumers",
                        agentName, artemis.getConsumerWindowSize());
            }
            int messengerUse = messenger().reopen();   // closed with a service this builder started before
            AgentService service;
            boolean installed = false;
            Heartbeats heartbeats = null;
            try {
                // before the first consumer: a request already queued may be the oversized one
                sizeBound.guard(queueName(agentName));
                sizeBound.installOn(connectionFactory);
                installed = true;
                heartbeats = new Heartbeats(connectionFactory, agentName, heartbeatInterval, sizeBound);
                service = new AgentService(agentName, shutdownTimeout, messenger(), messengerUse, heartbeats, sizeBound);
                service.startWorkers(connectionFactory, new ActionDispatcher(agentName, handlers),
                        new MessageDispatcher(agentName, messageHandlers), concurrency, jsonBound, sizeBound);
            } catch (RuntimeException | Error e) {
                // no service will close what this start took: the interceptor stayed on the shared factory, and the
                // messenger's use, held, kept it open after the running services closed
                if (heartbeats != null) {
                    heartbeats.close();
                }
                if (installed) {
                    sizeBound.uninstall();
                }
                messenger.closeUse(messengerUse);
                throw e;
            }
            started = true;
            return service;
        }

        /**
         * A setting changed after start() reached neither the running service nor, for the bounds, consistently its
         * messenger (which the service shares): refused rather than ignored.
         */
        private void refuseAfterStart(String option) {
            if (started) {
                throw new IllegalStateException("AgentService.Builder." + option + " called after start() of agent " + agentName
                        + ": a started service keeps the settings it started with (so does one started again from this"
                        + " builder); set " + option + " before start(), or make a new builder");
            }
        }
    }
}
