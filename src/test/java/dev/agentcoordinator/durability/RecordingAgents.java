package dev.agentcoordinator.durability;

import com.fasterxml.jackson.databind.JsonNode;
import dev.agentcoordinator.engine.Json;
import jakarta.jms.Connection;
import jakarta.jms.ConnectionFactory;
import jakarta.jms.DeliveryMode;
import jakarta.jms.Destination;
import jakarta.jms.JMSException;
import jakarta.jms.Message;
import jakarta.jms.MessageProducer;
import jakarta.jms.Session;
import jakarta.jms.TextMessage;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Agents of the durability tests, on raw JMS in the test JVM (they outlive the coordinators):
 * each records every request it receives, then answers after a delay without holding a thread,
 * so a few consumers serve thousands of slow steps. A reply that cannot be sent (broker restarting)
 * is tried again for up to a minute, as a patient agent would.
 */
public final class RecordingAgents implements AutoCloseable {

    /**
     * A request as received; {@code receivedAt} is wall-clock time, comparable with the database's now().
     * The same {@code messageId} twice is the broker delivering one request again (an acknowledgement
     * lost with a restart); the same correlation id under two message ids is the coordinator sending it again.
     */
    public record Request(String agent, String correlationId, String messageId, String executionId, String stepId, int attempt,
                          boolean redelivered, Instant receivedAt, JsonNode input) {
    }

    /** One reply: after {@code delayMs}, {@code body} with {@code correlationId} (null: the request's). */
    public record Reply(long delayMs, String body, String correlationId) {
        public static Reply ok(long delayMs, Object output) {
            return new Reply(delayMs, Json.write(Map.of("status", "ok", "output", output)), null);
        }

        public static Reply raw(long delayMs, String body) {
            return new Reply(delayMs, body, null);
        }
    }

    @FunctionalInterface
    public interface Behaviour {
        List<Reply> answer(Request request);
    }

    /** Answers ok after {@code delayMs}, with the step and execution in the output. */
    public static Behaviour okAfter(long delayMs) {
        return r -> List.of(Reply.ok(delayMs, Map.of("value", r.stepId() + ":" + r.executionId())));
    }

    private final ConnectionFactory connectionFactory;
    private final List<Connection> connections = new ArrayList<>();
    private final ScheduledExecutorService scheduler = Executors.newScheduledThreadPool(4);
    private final List<Request> requests = new CopyOnWriteArrayList<>();
    private final Map<String, Instant> repliesSent = new java.util.concurrent.ConcurrentHashMap<>();

    public RecordingAgents(ConnectionFactory connectionFactory) {
        this.connectionFactory = connectionFactory;
    }

    /** Starts {@code consumers} competing consumers on {@code agent.<name>}. */
    public RecordingAgents agent(String name, int consumers, Behaviour behaviour) throws JMSException {
        Connection connection = connectionFactory.createConnection();
        connections.add(connection);
        Session replySession = connection.createSession(false, Session.AUTO_ACKNOWLEDGE);
        MessageProducer producer = replySession.createProducer(null);
        producer.setDeliveryMode(DeliveryMode.PERSISTENT);
        for (int i = 0; i < consumers; i++) {
            Session session = connection.createSession(false, Session.AUTO_ACKNOWLEDGE);
            session.createConsumer(session.createQueue("agent." + name))
                    .setMessageListener(message -> onRequest(name, message, behaviour, replySession, producer));
        }
        connection.start();
        return this;
    }

    private void onRequest(String name, Message message, Behaviour behaviour, Session replySession, MessageProducer producer) {
        try {
            JsonNode body = Json.parse(((TextMessage) message).getText());
            Request request = new Request(name, message.getJMSCorrelationID(), message.getJMSMessageID(), body.path("execution_id").asText(),
                    body.path("step_id").asText(), body.path("attempt").asInt(), message.getJMSRedelivered(),
                    Instant.now(), body.path("input"));
            requests.add(request);
            Destination replyTo = message.getJMSReplyTo();
            for (Reply reply : behaviour.answer(request)) {
                String correlationId = reply.correlationId() != null ? reply.correlationId() : request.correlationId();
                scheduler.schedule(() -> send(replySession, producer, replyTo, reply.body(), correlationId, 0),
                        reply.delayMs(), TimeUnit.MILLISECONDS);
            }
        } catch (JMSException e) {
            throw new IllegalStateException(e);
        }
    }

    private void send(Session session, MessageProducer producer, Destination replyTo, String body, String correlationId, int tries) {
        try {
            synchronized (producer) {
                TextMessage message = session.createTextMessage(body);
                if (correlationId != null) {
                    message.setJMSCorrelationID(correlationId);
                }
                producer.send(replyTo, message);
            }
            if (correlationId != null) {
                repliesSent.putIfAbsent(correlationId, Instant.now());
            }
        } catch (JMSException | RuntimeException e) {
            if (tries < 60 && !scheduler.isShutdown()) {
                scheduler.schedule(() -> send(session, producer, replyTo, body, correlationId, tries + 1), 1, TimeUnit.SECONDS);
            }
        }
    }

    /** When the first reply with this correlation id was sent, or null if none was. */
    public Instant replySentAt(String correlationId) {
        return repliesSent.get(correlationId);
    }

    public List<Request> requests() {
        return List.copyOf(requests);
    }

    public List<Request> requests(String agent) {
        return requests.stream().filter(r -> r.agent().equals(agent)).toList();
    }

    @Override
    public void close() throws Exception {
        scheduler.shutdownNow();
        for (Connection connection : connections) {
            try {
                connection.close();
            } catch (JMSException ignored) {
                // broker may be gone already
            }
        }
    }
}
