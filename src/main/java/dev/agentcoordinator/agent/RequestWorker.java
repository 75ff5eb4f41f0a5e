package dev.agentcoordinator.agent;

import jakarta.jms.Connection;
import jakarta.jms.ConnectionFactory;
import jakarta.jms.DeliveryMode;
import jakarta.jms.Destination;
import jakarta.jms.JMSException;
import jakarta.jms.Message;
import jakarta.jms.MessageConsumer;
import jakarta.jms.MessageProducer;
import jakarta.jms.Session;
import jakarta.jms.TextMessage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * One competing consumer of {@code agent.<name>}: its own connection and transacted session.
 * Receiving the request and sending the reply are one transaction, so a request is consumed only
 * once its reply is on the broker; a crash in between means redelivery, never a lost step.
 * Messages from other agents (JMS property {@code message_kind=agent_message}) go to the message
 * handlers instead, and their response, when one is required, is sent the same way.
 */
final class RequestWorker implements Runnable {

    private static final Logger LOG = LoggerFactory.getLogger(RequestWorker.class);
    /** How often an idle worker checks whether the service is closing. */
    private static final long POLL_MILLIS = 250;
    private static final long FIRST_BACKOFF_MILLIS = 1_000;
    private static final long MAX_BACKOFF_MILLIS = 30_000;

    private final String queueName;
    private final ConnectionFactory connectionFactory;
    private final ActionDispatcher dispatcher;
    private final MessageDispatcher messageDispatcher;
    private final CountDownLatch stopRequested;
    private final Heartbeats heartbeats;
    /** The service's, shared by its workers. */
    private final JsonTokenBound jsonBound;
    private final MessageSizeBound sizeBound;

    // written by the worker thread, closed by AgentService.close() after the grace period
    private volatile Connection connection;
    private Session session;
    private MessageConsumer consumer;
    private MessageProducer producer;
    /** The request or agent message whose handler runs now, while it runs: what a lost connection stops. */
    private volatile InFlight inFlight;
    /**
     * The client reconnected (failover) since the session's transaction began: Artemis marks such a transaction
     * rollback-only, also an idle one (each empty poll of a consumer without a buffer counts as work), so a
     * request received in it could be handled but not committed, and would be handled again.
     */
    private final java.util.concurrent.atomic.AtomicBoolean failedOver = new java.util.concurrent.atomic.AtomicBoolean();
    /**
     * How many failures of the current connection the client has told of so far (a failure detected, or one for good): a
     * request received after the last one was taken on the connection as it is now, which a late notice of that failure
     * (Artemis tells the exception listener of a reconnection on a thread of its own, sometimes after the next request was
     * taken) must not stop; one received before the next was taken in a transaction that failure lost.
     */
    private final java.util.concurrent.atomic.AtomicLong failuresDetected = new java.util.concurrent.atomic.AtomicLong();
    /**
     * WAITING for a request (or reconnecting), HANDLING one from its receipt to its commit, or STOPPED by the service's
     * close while it waited: a stop waits only for a worker with a request in hand, and a request received as the stop
     * came is not handled.
     */
    private final java.util.concurrent.atomic.AtomicReference<Phase> phase = new java.util.concurrent.atomic.AtomicReference<>(Phase.WAITING);

    private enum Phase { WAITING, HANDLING, STOPPED }

    /**
     * The broker cut the connection off and the client has not reconnected since: nothing on it can be committed, and
     * a call on it waits for a reconnection, so the stop neither waits for this worker nor says goodbye to the broker.
     */
    private volatile boolean cutOff;

    private static final class InFlight {
        final Thread handler;
        final Heartbeats.Beat beat;
        /** The connection the request came on, and how many failures had been detected by then. */
        final Connection receivedOn;
        final long failuresBefore;
        /** "request" or "agent message": what the log says goes back to the broker. */
        final String kind;
        /** Why the connection was lost meanwhile, if it was: the request goes back to the broker, no reply. */
        volatile String abandoned;

        InFlight(Thread handler, Heartbeats.Beat beat, Connection receivedOn, long failuresBefore, String kind) {
            this.handler = handler;
            this.kind = kind;
            this.beat = beat;
            this.receivedOn = receivedOn;
            this.failuresBefore = failuresBefore;
        }
    }

    RequestWorker(String queueName, ConnectionFactory connectionFactory, ActionDispatcher dispatcher,
                  MessageDispatcher messageDispatcher, CountDownLatch stopRequested, Heartbeats heartbeats,
                  JsonTokenBound jsonBound, MessageSizeBound sizeBound) {
        this.queueName = queueName;
        this.connectionFactory = connectionFactory;
        this.dispatcher = dispatcher;
        this.messageDispatcher = messageDispatcher;
        this.stopRequested = stopRequested;
        this.heartbeats = heartbeats;
        this.jsonBound = jsonBound;
        this.sizeBound = sizeBound;
    }

    /** Connects and subscribes; called once up front so that start() fails fast on a bad broker. */
    void open() throws JMSException {
        cutOff = false;
        Connection opened = connectionFactory.createConnection();
        try {
            watchForLoss(opened);
            Session newSession = opened.createSession(true, Session.SESSION_TRANSACTED);
            consumer = newSession.createConsumer(newSession.createQueue(queueName));
            producer = newSession.createProducer(null); // replies go wherever each request says
            producer.setDeliveryMode(DeliveryMode.PERSISTENT);
            opened.start();
            session = newSession;
        } catch (JMSException | RuntimeException | Error e) {
            closeQuietly(opened);
            throw e;
        }
        connection = opened;
    }

    /**
     * Consumes until the service stops. Whatever ends it, its connection is closed: a request delivered to it and not
     * committed goes back to the queue for another consumer, instead of being held (with a consumer window, more with it)
     * until the service's close.
     */
    @Override
    public void run() {
        try {
            consume();
        } catch (RuntimeException | Error e) {
            // thrown while it recovered from a failure (out of memory again): this consumer is gone, the others run on
            LOG.error("consumer on {} ended by {}; its request, if any, goes back to the queue; the service runs on with one"
                    + " consumer fewer (close it and start it again from its builder to get it back)", queueName, e.toString(), e);
            throw e;
        } finally {
            closeConnection();
        }
    }

    private void consume() {
        long backoff = FIRST_BACKOFF_MILLIS;
        while (running()) {
            try {
                if (connection == null) {
                    open();
                    LOG.info("consumer on {} reconnected", queueName);
                }
                if (failedOver.getAndSet(false) | doomed()) {
                    rollbackQuietly();   // ends the transaction the failover doomed, before any request is taken in it
                }
                // before the receive: a loss noticed from here on took the transaction the request comes in
                long failuresBeforeReceipt = failuresDetected.get();
                Message message = consumer.receive(POLL_MILLIS);
                if (message != null && (!running() || !phase.compareAndSet(Phase.WAITING, Phase.HANDLING))) {
                    rollbackQuietly();   // close() came while it waited: left for another instance
                    break;
                }
                if (message != null) {
                    try {
                        if (failedOver.getAndSet(false) | doomed()) {
                            rollbackQuietly();   // received in the transaction a failover doomed meanwhile: delivered again, handled then
                            continue;
                        }
                        process(message, failuresBeforeReceipt);
                    } finally {
                        phase.compareAndSet(Phase.HANDLING, Phase.WAITING);
                    }
                }
                backoff = FIRST_BACKOFF_MILLIS;
            } catch (JMSException | RuntimeException e) {
                if (!running()) {
                    break;
                }
                LOG.warn("consumer on {} failed, reconnecting in {} ms: {}", queueName, backoff, e.toString());
                closeConnection();
                pauseUnlessStopped(backoff);
                backoff = Math.min(backoff * 2, MAX_BACKOFF_MILLIS);
            } catch (Error e) {
                // from the client, not a handler (process() answers those): out of memory decoding a large body, a class
                // missing. Left to end the thread, it kept the connection open, holding the request it had been delivered
                // until the service's close. The connection goes (the request back to the queue) and the consumer
                // reconnects, as after a failure above; a request that throws it each time reaches the broker's delivery limit.
                if (!running()) {
                    break;
                }
                LOG.error("consumer on {} failed with {}, its request goes back to the queue; reconnecting in {} ms",
                        queueName, e, backoff, e);
                closeConnection();
                pauseUnlessStopped(backoff);
                backoff = Math.min(backoff * 2, MAX_BACKOFF_MILLIS);
            }
        }
    }

    /**
     * For the service's close, once it asked to stop: a worker that has no request in hand (it waits for one, or for
     * the client to reconnect to a broker that went away), or whose connection the broker cut off (its request goes
     * back to the queue with it), is stopped now, its connection closed under it. One that handles a request finishes it.
     */
    void stopUnlessAtWork() {
        if (phase.compareAndSet(Phase.WAITING, Phase.STOPPED) || cutOff) {
            closeConnection();
        }
    }

    /** Closes the connection from outside: the in-flight request, if any, is rolled back and redelivered. */
    void closeConnection() {
        Connection current = connection;
        connection = null;
        if (current != null) {
            if (cutOff && current instanceof org.apache.activemq.artemis.jms.client.ActiveMQConnection artemis) {
                // its sessions dropped without a word to the broker: each close would wait the call timeout for an
                // answer, and a thread blocked in a call for the reconnection is released
                artemis.getSessionFactory().cleanup();
            }
            closeQuietly(current);
        }
    }

    private void process(Message message, long failuresBeforeReceipt) throws JMSException {
        try {
            if (AgentMessageWire.isAgentMessage(message)) {
                if (respondToAgentMessage(message, failuresBeforeReceipt)) {
                    session.commit();
                }
                return;
            }
            Destination replyTo = message.getJMSReplyTo();
            if (replyTo == null) {
                LOG.warn("request {} on {} has no JMSReplyTo, nobody can get its reply: dropped without running it",
                        message.getJMSMessageID(), queueName);
            } else {
                // the JMS convention: correlate by the request's correlation id, else by its message id
                String correlationId = message.getJMSCorrelationID() != null ? message.getJMSCorrelationID() : message.getJMSMessageID();
                Heartbeats.Beat beating = heartbeats.beatFor(replyTo, correlationId, message.getJMSRedelivered());
                AgentReply answer = runInFlight("request", correlationId, beating, failuresBeforeReceipt, () -> answer(message));
                if (answer == null) {
                    return;   // the connection was lost: rolled back, left for redelivery
                }
                if (beating.stopReason() != null && !beating.replyWanted()) {
                    // the coordinator would record the reply and ignore it: the request is consumed without one
                    LOG.info("request {} on {} stopped by the coordinator, no reply sent: {}", correlationId, queueName, beating.stopReason());
                } else {
                    if (beating.stopReason() != null) {
                        // a cancel's undo of the step waits to learn whether the work was done (docs/agent-protocol.md)
                        LOG.info("request {} on {} stopped by the coordinator, which wants its reply all the same: {}",
                                correlationId, queueName, beating.stopReason());
                    }
                    // an error reply carries the handler's latest progress: a retry resumes from it (docs/agent-protocol.md)
                    TextMessage reply = session.createTextMessage(renderSafely(answer, answer.isOk() ? null : beating.progressJson()));
                    reply.setJMSCorrelationID(correlationId);
                    producer.send(replyTo, reply);
                }
            }
            session.commit();
        } catch (JMSException | RuntimeException e) {
            rollbackQuietly();
            throw e;
        } catch (Error e) {
            // one the JVM may not survive (ActionDispatcher answers the others): keep consuming; the broker's
            // delivery limit stops a poison request
            rollbackQuietly();
            LOG.error("request {} on {} rolled back for redelivery", message.getJMSMessageID(), queueName, e);
        }
    }

    /** A handler's work: what it answers, never null. */
    private interface HandlerRun<T> {
        T run() throws JMSException;
    }

    /**
     * Runs the handler of a step request or of an agent message registered in {@link #inFlight}, so that a connection
     * lost while it runs (its transaction goes with it) stops it, and one lost since the receive does not start it.
     * {@code kind} ("request", "agent message") and {@code id} name it in the log. Null
     * then: the transaction is rolled back, the message left for redelivery, and nothing may be sent for it.
     */
    private <T> T runInFlight(String kind, String id, Heartbeats.Beat beat, long failuresBeforeReceipt, HandlerRun<T> handler) throws JMSException {
        InFlight flight = new InFlight(Thread.currentThread(), beat, connection, failuresBeforeReceipt, kind);
        T answer = null;
        inFlight = flight;
        try {
            // a loss noticed between the receive and the line above found no handler to stop: this one is not started
            String lost = lostSinceReceipt(failuresBeforeReceipt);
            if (lost != null) {
                flight.abandoned = lost + ": the " + kind + " will be delivered again";
                LOG.warn("consumer on {}: not starting the handler, {}", queueName, flight.abandoned);
            } else {
                answer = handler.run();
            }
        } finally {
            inFlight = null;
            beat.close();
            clearStrayInterrupt();
        }
        if (flight.abandoned != null) {
            // rolled back, not committed: were the session to survive the loss, a commit would consume the
            // message without its reply
            rollbackQuietly();
            LOG.info("{} {} on {} left for redelivery, no reply sent: {}", kind, id, queueName, flight.abandoned);
            return null;
        }
        return answer;
    }

    /**
     * A connection lost while a handler runs takes the request's transaction with it: the broker delivers
     * the request again (to this worker once it reconnects, or to another), and the reply this handler
     * would send cannot leave. So the handler is stopped (interrupted, its heartbeats ended, which would
     * otherwise keep moving the attempt's deadline), and its reply is not sent. Without reconnection the
     * client reports the loss to the exception listener; with it (reconnectAttempts), the failover
     * listener does, and the session's transaction is rolled back all the same.
     */
    private void watchForLoss(Connection opened) throws JMSException {
        opened.setExceptionListener(failure -> {
            // Artemis calls it after a reconnection that succeeded too (error code FAILOVER): the connection is fine then;
            // and on a thread of its own, possibly after this worker replaced the connection
            boolean reconnected = "FAILOVER".equals(failure.getErrorCode());
            if (!reconnected && connection == opened) {
                failuresDetected.incrementAndGet();   // the only notice when the connection is not Artemis's own (a pool's)
                cutOff = true;
            }
            abandonInFlight(opened, reconnected, "the connection to the broker failed (" + failure.getMessage() + ")");
        });
        if (opened instanceof org.apache.activemq.artemis.jms.client.ActiveMQConnection artemis) {
            artemis.setFailoverListener(event -> {
                if (event == org.apache.activemq.artemis.api.core.client.FailoverEventType.FAILURE_DETECTED) {
                    if (connection == opened) {   // a late notice about a connection replaced since concerns no request of this one
                        failuresDetected.incrementAndGet();
                    }
                    cutOff = connection == opened;
                    abandonInFlight(opened, false, "the connection to the broker was lost");
                } else if (event == org.apache.activemq.artemis.api.core.client.FailoverEventType.FAILOVER_COMPLETED) {
                    cutOff = false;
                    failedOver.set(true);
                }
            });
        }
    }

    /**
     * Stops the handler at work if the lost connection took its request's transaction: not when the request came on
     * another connection, nor, for a notice of a reconnection, when it was taken after the failure the notice is about.
     */
    private void abandonInFlight(Connection lost, boolean reconnected, String why) {
        InFlight current = inFlight;
        if (current == null || !running() || current.receivedOn != lost
                || (reconnected && current.failuresBefore == failuresDetected.get())) {
            return;
        }
        String reason = why + ": the " + current.kind + " will be delivered again";
        LOG.warn("consumer on {}: stopping the handler at work, {}", queueName, reason);
        current.abandoned = reason;
        if (!current.beat.stop(reason)) {
            current.handler.interrupt();
        }
    }

    /**
     * Why the transaction the request came in cannot commit, when a loss was noticed since the worker began to receive
     * it: the notice (on a thread of the client's) came before the handler was registered in {@link #inFlight}, so
     * {@link #abandonInFlight} found none to stop. Null when none was. Read after that registration: a notice after it
     * finds the handler, one before it is seen here.
     */
    private String lostSinceReceipt(long failuresBeforeReceipt) {
        if (failuresDetected.get() != failuresBeforeReceipt) {
            return "the connection to the broker was lost before the handler started";
        }
        if (doomed()) {
            return "the client reconnected to the broker (failover) before the handler started";
        }
        return null;
    }

    /**
     * A message from another agent: its handler runs, as a request's does, in flight (a lost connection stops it); the
     * response goes back when one is required. False when the connection was lost meanwhile: rolled back, nothing sent.
     */
    private boolean respondToAgentMessage(Message message, long failuresBeforeReceipt) throws JMSException {
        Handled handled = runInFlight("agent message", message.getJMSMessageID(), Heartbeats.none(), failuresBeforeReceipt,
                () -> handleAgentMessage(message));
        if (handled == null) {
            return false;
        }
        Destination replyTo = message.getJMSReplyTo();
        if (handled.requiresResponse() && replyTo != null) {
            TextMessage reply = session.createTextMessage(handled.response());
            String correlationId = message.getJMSCorrelationID();
            reply.setJMSCorrelationID(correlationId != null ? correlationId : message.getJMSMessageID());
            producer.send(replyTo, reply);
        }
        return true;
    }

    /** What an agent message's handler answered, and whether the sender waits for it. */
    private record Handled(String response, boolean requiresResponse) {
    }

    private Handled handleAgentMessage(Message message) throws JMSException {
        try {
            AgentMessage agentMessage = AgentMessageWire.parse(sizeBound.bodyOf(message, "agent message"), jsonBound);
            return new Handled(messageDispatcher.dispatch(agentMessage), agentMessage.requiresResponse());
        } catch (MalformedRequestException e) {
            LOG.warn("malformed agent message {} on {}: {}", message.getJMSMessageID(), queueName, e.getMessage());
            return new Handled(AgentMessageWire.error("malformed agent message on " + queueName + ": " + e.getMessage()), true);
        }
    }

    private AgentReply answer(Message message) throws JMSException {
        try {
            AgentRequest request = AgentMessages.parseRequest(sizeBound.bodyOf(message, "request"), jsonBound);
            return dispatcher.dispatch(request);
        } catch (MalformedRequestException e) {
            LOG.warn("malformed request {} on {}: {}", message.getJMSMessageID(), queueName, e.getMessage());
            return AgentReply.error("malformed request on " + queueName + ": " + e.getMessage(), false);
        }
    }

    private String renderSafely(AgentReply reply, String progressJson) {
        try {
            return AgentMessages.render(reply, progressJson);
        } catch (RuntimeException e) {
            LOG.warn("reply on {} cannot be written as JSON: {}", queueName, e.toString());
            return AgentMessages.render(AgentReply.error(
                    "agent output on " + queueName + " cannot be written as JSON: " + e.getMessage(), false));
        }
    }

    /**
     * Whether the session's transaction can only roll back: the client marks it so as it fails over, before the consumer
     * takes anything on the new connection, whereas the failover listener ({@link #failedOver}) runs later, on an
     * executor of its own. A request taken in that window was handled, its commit refused, and handled again.
     */
    private boolean doomed() {
        return session instanceof org.apache.activemq.artemis.jms.client.ActiveMQSession artemis && artemis.getCoreSession().isRollbackOnly();
    }

    private boolean running() {
        return stopRequested.getCount() > 0;
    }

    /**
     * An interrupt the handler got from elsewhere (a watchdog of its own, a library) while the service runs:
     * cleared, or the reply's send, the commit and every receive after them would fail at once, for good.
     * AgentService.close() interrupts only after asking to stop; a stop of the coordinator's is cleared by
     * Heartbeats.
     */
    private void clearStrayInterrupt() {
        // while closing too: close() interrupts only once it closed this worker's connection (connection == null), and
        // a stray interrupt kept would fail the reply of a handler that finished within the shutdown timeout
        if ((running() || connection != null) && Thread.interrupted()) {
            LOG.debug("consumer on {}: interrupt left by a handler cleared", queueName);
        }
    }

    private void pauseUnlessStopped(long millis) {
        try {
            stopRequested.await(millis, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            if (!running()) {
                Thread.currentThread().interrupt();   // AgentService.close(): the loop ends
            }
        }
    }

    private void rollbackQuietly() {
        try {
            session.rollback();
        } catch (JMSException | RuntimeException e) {
            LOG.debug("rollback on {} failed (the broker redelivers anyway): {}", queueName, e.toString());
        }
    }

    private static void closeQuietly(Connection toClose) {
        try {
            toClose.close();
        } catch (JMSException | RuntimeException e) {
            LOG.debug("closing a connection failed: {}", e.toString());
        }
    }
}
