package dev.agentcoordinator.agent;

import com.fasterxml.jackson.databind.JsonNode;
import jakarta.jms.Connection;
import jakarta.jms.ConnectionFactory;
import jakarta.jms.DeliveryMode;
import jakarta.jms.JMSException;
import jakarta.jms.JMSRuntimeException;
import jakarta.jms.Message;
import jakarta.jms.MessageProducer;
import jakarta.jms.Session;
import jakarta.jms.TemporaryQueue;
import jakarta.jms.TextMessage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Sends messages to other agents through the coordinator (spec: sendAgentMessage): {@link #tell}
 * for a notice, {@link #ask} for a question whose response arrives as a future.
 *
 * <pre>{@code
 * JsonNode answer = messenger.ask("strategist", "PRIORITY_QUERY", Map.of("user_id", "u-1"), Duration.ofSeconds(10))
 *         .get(15, TimeUnit.SECONDS);
 * }</pre>
 *
 * Responses come back on a temporary queue of this messenger's own connection (the messages'
 * JMSReplyTo). The coordinator stores every message and, when no response comes in time, answers
 * with a timeout: the future then fails with {@link AgentMessageTimeoutException}. Thread-safe.
 * An {@link AgentService} has one ({@link AgentService#messenger()}); {@link #connect} makes a
 * stand-alone one.
 */
public final class AgentMessenger implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(AgentMessenger.class);
    /** A future fails on its own this long after the timeout should the coordinator's notice not come. */
    private static final Duration LOCAL_GRACE = Duration.ofSeconds(5);
    /**
     * Without a timeout of its own a message waits as long as the coordinator's setting
     * ({@code coordinator.messages.response-timeout-ms}), which this side does not know: the future then
     * fails on its own only after this, should the coordinator's notice never come (it is not running).
     */
    private static final Duration UNKNOWN_TIMEOUT_BOUND = Duration.ofHours(1);

    /**
     * Completes the questions' futures off the JMS listener thread: a stage chained on one runs on the completing thread,
     * and one that waits for another question there would block the only thread that can deliver its response.
     */
    private static final java.util.concurrent.Executor COMPLETIONS = java.util.concurrent.Executors.newCachedThreadPool(runnable -> {
        Thread thread = new Thread(runnable, "agent-messenger-completion");
        thread.setDaemon(true);
        return thread;
    });

    private final ConnectionFactory connectionFactory;
    private final String agentName;
    private final Map<String, CompletableFuture<JsonNode>> awaiting = new ConcurrentHashMap<>();
    /**
     * The questions sent on the current connection (guarded by this): their responses come to its temporary
     * queue, so they fail with it. A question registered and not sent yet goes out on the next connection.
     */
    private final java.util.Set<String> sentOnConnection = ConcurrentHashMap.newKeySet();
    private Connection connection;
    private Session sendSession;
    private MessageProducer producer;
    private TemporaryQueue responses;
    private boolean closed;
    /** How often a service opened this messenger ({@link #reopen}): the latest use's number. */
    private int uses;
    /** The uses of the services running on this messenger (guarded by this): the last one closed closes it. */
    private final java.util.Set<Integer> openUses = new java.util.HashSet<>();
    /** What a response is read within: its service's bound (which its builder may set after making this), or its own. */
    private volatile JsonTokenBound jsonBound;
    /** The bytes of a response read: its service's bound, which guards the responses' queue, or its own. */
    private volatile MessageSizeBound sizeBound;
    /** A stand-alone messenger's bound is on the connection factory until the messenger is closed; a service's, until it is. */
    private boolean ownsSizeBound;
    /** The responses' queue as the bound guards it (a temporary queue of the current connection), or null. */
    private String guardedQueue;
    private MessageSizeBound guardedBy;

    AgentMessenger(ConnectionFactory connectionFactory, String agentName) {
        this(connectionFactory, agentName, JsonTokenBound.DEFAULT,
                new MessageSizeBound(MessageSizeBound.DEFAULT_MAX_BYTES, MessageSizeBound.SERVICE_OPTION));
    }

    AgentMessenger(ConnectionFactory connectionFactory, String agentName, JsonTokenBound jsonBound, MessageSizeBound sizeBound) {
        this.connectionFactory = Objects.requireNonNull(connectionFactory, "connectionFactory");
        this.agentName = AgentService.checkedAgentName(agentName, "agent name");
        this.jsonBound = jsonBound;
        this.sizeBound = sizeBound;
    }

    /**
     * A messenger sending as {@code agentName}, connected now (fails fast on a bad broker), reading at most 1,000,000
     * JSON tokens and 40 MiB of a response.
     */
    public static AgentMessenger connect(ConnectionFactory connectionFactory, String agentName) {
        return connect(connectionFactory, agentName, JsonTokenBound.DEFAULT_MAX_TOKENS);
    }

    /**
     * As {@link #connect(ConnectionFactory, String)}, reading at most {@code maxJsonTokens} JSON tokens (keys, values,
     * brackets; at least 1,000) of a response: one beyond fails its {@code ask} with {@link AgentMessageException}.
     * Raise it with the coordinator's {@code coordinator.input.max-json-tokens}, within which the coordinator reads a
     * response before passing it on.
     */
    public static AgentMessenger connect(ConnectionFactory connectionFactory, String agentName, int maxJsonTokens) {
        return connect(connectionFactory, agentName, maxJsonTokens, MessageSizeBound.DEFAULT_MAX_BYTES);
    }

    /**
     * As {@link #connect(ConnectionFactory, String, int)}, reading at most {@code maxMessageBytes} of a response (at
     * least 64 KiB; 40 MiB by default, the coordinator's {@code coordinator.input.max-message-bytes}; a TextMessage's
     * text takes 2 bytes a character on the broker): one longer fails its {@code ask} with {@link AgentMessageException},
     * its body not read.
     */
    public static AgentMessenger connect(ConnectionFactory connectionFactory, String agentName, int maxJsonTokens, int maxMessageBytes) {
        AgentMessenger messenger = new AgentMessenger(connectionFactory, agentName,
                new JsonTokenBound(maxJsonTokens, JsonTokenBound.MESSENGER_OPTION),
                new MessageSizeBound(maxMessageBytes, MessageSizeBound.MESSENGER_OPTION));
        messenger.ownsSizeBound = true;
        messenger.sizeBound.installOn(connectionFactory);
        try {
            messenger.open();
        } catch (RuntimeException e) {
            messenger.close();
            throw e;
        }
        return messenger;
    }

    /** Its service's bound, set by the builder that made it. */
    void readWithin(JsonTokenBound bound) {
        this.jsonBound = Objects.requireNonNull(bound, "bound");
    }

    /** Its service's bound, set by the builder that made it (before the service starts, so before it connects). */
    void readWithin(MessageSizeBound bound) {
        this.sizeBound = Objects.requireNonNull(bound, "bound");
    }

    public String agentName() {
        return agentName;
    }

    /** A notice that needs no response; returns its message id. */
    public String tell(String to, String type, Object payload) {
        AgentService.checkedAgentName(to, "recipient");   // refused by the coordinator, unseen: a notice has no reply-to
        if (type == null || type.isBlank() || type.length() > 200) {   // the same: the coordinator's AgentMessageCodec
            throw new IllegalArgumentException("message type must be non-empty text of at most 200 characters, was "
                    + (type == null ? "null" : type.length() > 200 ? type.length() + " characters" : "\"" + type + "\""));
        }
        String messageId = UUID.randomUUID().toString();
        send(messageId, AgentMessageWire.outgoing(messageId, agentName, to, type, payload, false, null), false);
        return messageId;
    }

    /**
     * {@link #ask(String, String, Object, Duration)} with the coordinator's timeout for messages
     * ({@code coordinator.messages.response-timeout-ms}, 30 s unless configured).
     */
    public CompletableFuture<JsonNode> ask(String to, String type, Object payload) {
        return ask(to, type, payload, null);
    }

    /**
     * Sends a message that requires a response. The future completes with the recipient's response
     * payload (the whole response when it has no {@code status}), or fails with {@link AgentMessageTimeoutException} when none came within
     * {@code timeout}, or with {@link AgentMessageException} when the recipient answered with an
     * error or the coordinator refused the message.
     */
    public CompletableFuture<JsonNode> ask(String to, String type, Object payload, Duration timeout) {
        try {
            AgentService.checkedAgentName(to, "recipient");
        } catch (IllegalArgumentException refused) {   // as the coordinator's refusal would come: on the future
            return CompletableFuture.failedFuture(new AgentMessageException(null, refused.getMessage()));
        }
        String messageId = UUID.randomUUID().toString();
        CompletableFuture<JsonNode> response = new CompletableFuture<>();
        awaiting.put(messageId, response);
        Duration bound = timeout == null ? UNKNOWN_TIMEOUT_BOUND : timeout.plus(LOCAL_GRACE);
        response.orTimeout(bound.toMillis(), TimeUnit.MILLISECONDS)
                .whenComplete((value, failure) -> {
                    awaiting.remove(messageId);
                    sentOnConnection.remove(messageId);
                });
        try {
            send(messageId, AgentMessageWire.outgoing(messageId, agentName, to, type, payload, true,
                    timeout == null ? null : timeout.toMillis()), true);
        } catch (RuntimeException e) {
            response.completeExceptionally(e);
        }
        // the local bound's failure reads as the coordinator's would
        return response.exceptionallyCompose(failure -> CompletableFuture.failedFuture(failure instanceof TimeoutException
                ? new AgentMessageTimeoutException(messageId, "no response to message " + messageId + " within " + bound.toMillis()
                        + " ms, and no timeout notice from the coordinator")
                : failure));
    }

    /**
     * Closes the connection; futures still waiting fail. The messenger of an {@link AgentService} belongs to the running
     * services of its builder, which close it with the last of them: its close() while one runs leaves it open for them
     * (closing it would pull the connection from under their handlers), so a try-with-resources closes a service and its
     * messenger in either order. Closing it again does nothing.
     */
    @Override
    public synchronized void close() {
        if (!openUses.isEmpty()) {
            // try (service; messenger) closes the messenger first: the service's close then closes it
            int running = openUses.size();
            LOG.info("messenger of {}: close() while {} running service{} of its builder use{} it: it closes with the last of them",
                    agentName, running, running == 1 ? "" : "s", running == 1 ? "s" : "");
            return;
        }
        closeNow();
    }

    private void closeNow() {
        closed = true;
        dropConnection("messenger of " + agentName + " closed");
        if (ownsSizeBound) {
            sizeBound.uninstall();
        }
        awaiting.values().forEach(f -> f.completeExceptionally(new AgentMessageException(null, "messenger of " + agentName + " closed")));
    }

    /**
     * Sends again after {@link #close()}: a service started once more from the builder that made this messenger.
     * Returns the use now open, which {@link #closeUse} names.
     */
    synchronized int reopen() {
        closed = false;
        openUses.add(++uses);
        return uses;
    }

    /**
     * Ends {@code use}, once however often it is called (a close() again, a failed start()'s cleanup), and closes the
     * messenger when it was the last one open: another service of the same builder still running keeps sending with it.
     */
    synchronized void closeUse(int use) {
        if (openUses.remove(use) && openUses.isEmpty()) {
            closeNow();
        }
    }

    /**
     * Closes the connection, if any, and fails the questions waiting on it: their responses were to come
     * to its temporary queue, which goes with it. The next message connects again.
     */
    private synchronized void dropConnection(String why) {
        List<String> sent = List.copyOf(sentOnConnection);
        sentOnConnection.clear();
        for (String messageId : sent) {
            CompletableFuture<JsonNode> waiting = awaiting.get(messageId);
            if (waiting != null) {
                waiting.completeExceptionally(new AgentMessageException(messageId, why));
            }
        }
        if (connection != null) {
            try {
                connection.close();
            } catch (JMSException e) {
                LOG.debug("closing the messenger of {} failed: {}", agentName, e.toString());
            }
            connection = null;
        }
        if (guardedQueue != null) {
            guardedBy.unguard(guardedQueue);
            guardedQueue = null;
        }
    }

    /** The broker dropped the connection (it restarted, the network failed): the next message connects again. */
    private synchronized void connectionLost(Connection lost, JMSException failure) {
        // FAILOVER: the client reconnected on its own (reconnectAttempts), temporary queue and all
        if (connection == lost && !"FAILOVER".equals(failure.getErrorCode())) {
            LOG.warn("agent {}: the messenger's connection failed ({}); the next message connects again", agentName, failure.toString());
            dropConnection("the connection of the messenger of " + agentName + " failed before the response came: " + failure.getMessage());
        }
    }

    private synchronized void send(String messageId, String body, boolean awaitsResponse) {
        open();
        try {
            TextMessage message = sendSession.createTextMessage(body);
            message.setJMSCorrelationID(messageId);
            if (awaitsResponse) {
                message.setJMSReplyTo(responses);
            }
            if (awaitsResponse) {
                sentOnConnection.add(messageId);   // before the send: its response may come before send() returns
            }
            producer.send(message);
        } catch (JMSException e) {
            // a broken connection is not used again: the next message connects afresh
            dropConnection("the messenger of " + agentName + " could not send message " + messageId + ": " + e.getMessage());
            throw new JMSRuntimeException("agent " + agentName + " cannot send message " + messageId + ": " + e.getMessage(), null, e);
        }
    }

    /** Connects on first use (an AgentService's messenger costs nothing until a handler sends). */
    synchronized void open() {
        if (closed) {
            throw new IllegalStateException("messenger of " + agentName + " is closed");
        }
        if (connection != null) {
            return;
        }
        Connection opened = null;
        try {
            opened = connectionFactory.createConnection();
            Connection watched = opened;
            opened.setExceptionListener(failure -> connectionLost(watched, failure));
            Session session = opened.createSession(false, Session.AUTO_ACKNOWLEDGE);
            MessageProducer newProducer = session.createProducer(session.createQueue(AgentMessageWire.QUEUE));
            newProducer.setDeliveryMode(DeliveryMode.PERSISTENT);
            Session receiveSession = opened.createSession(false, Session.AUTO_ACKNOWLEDGE);
            TemporaryQueue queue = receiveSession.createTemporaryQueue();
            guardedBy = sizeBound;
            guardedQueue = queue.getQueueName();
            guardedBy.guard(guardedQueue);
            receiveSession.createConsumer(queue).setMessageListener(this::onResponse);
            opened.start();
            sendSession = session;
            producer = newProducer;
            responses = queue;
            connection = opened;
        } catch (JMSException e) {
            if (guardedQueue != null) {
                guardedBy.unguard(guardedQueue);
                guardedQueue = null;
            }
            if (opened != null) {
                try {
                    opened.close();
                } catch (JMSException ignored) {
                    // already failing
                }
            }
            throw new JMSRuntimeException("agent " + agentName + " cannot connect its messenger: " + e.getMessage(), null, e);
        }
    }

    private void onResponse(Message message) {
        try {
            String correlationId = message.getJMSCorrelationID();
            CompletableFuture<JsonNode> future = correlationId == null ? null : awaiting.get(correlationId);
            if (future == null) {
                LOG.debug("agent {}: response {} matches no question waiting (late, or its future timed out)", agentName, correlationId);
                return;
            }
            JsonNode body;
            JsonTokenBound bound = jsonBound;
            try {
                body = bound.mapper().readTree(sizeBound.bodyOf(message, "the response"));
            } catch (MalformedRequestException e) {
                // the asker learns why now, not at its timeout
                COMPLETIONS.execute(() -> future.completeExceptionally(new AgentMessageException(correlationId,
                        "message " + correlationId + ": " + e.getMessage())));
                return;
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                String tooMany = bound.tooManyTokens("the response", e);
                if (tooMany == null) {
                    throw e;
                }
                // the asker learns why now, not at its timeout
                COMPLETIONS.execute(() -> future.completeExceptionally(new AgentMessageException(correlationId,
                        "message " + correlationId + ": " + tooMany)));
                return;
            }
            String status = body.path("status").asText();
            JsonNode response = body.path("response");
            Throwable failure = switch (status) {
                case "responded" -> "error".equals(response.path("status").asText())
                        ? new AgentMessageException(correlationId, body.path("from").asText()
                                + " answered with an error: " + response.path("error").asText())
                        : null;
                case "timed_out" -> new AgentMessageTimeoutException(correlationId,
                        "no response from " + body.path("to").asText() + " to message " + correlationId + " ("
                                + body.path("type").asText() + ") in time");
                default -> new AgentMessageException(correlationId,
                        "message " + correlationId + " " + status + ": " + body.path("error").asText(body.toString()));
            };
            COMPLETIONS.execute(() -> {
                if (failure == null) {
                    // a response without status (a recipient of its own, docs/agent-protocol.md) is kept as it came: the whole of it
                    future.complete(response.has("status") ? response.path("payload") : response);
                } else {
                    future.completeExceptionally(failure);
                }
            });
        } catch (Exception e) {
            LOG.warn("agent {}: unreadable response to a message: {}", agentName, e.toString());
        }
    }
}
