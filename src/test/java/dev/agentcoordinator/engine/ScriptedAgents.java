package dev.agentcoordinator.engine;

import com.fasterxml.jackson.databind.JsonNode;
import jakarta.jms.Connection;
import jakarta.jms.ConnectionFactory;
import jakarta.jms.DeliveryMode;
import jakarta.jms.Destination;
import jakarta.jms.JMSException;
import jakarta.jms.Message;
import jakarta.jms.MessageProducer;
import jakarta.jms.Session;
import jakarta.jms.TextMessage;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * Agents for engine tests, written against raw JMS so that they can misbehave on purpose: reply
 * late, twice, never, with malformed JSON or a wrong correlation id. Every request is recorded.
 */
public final class ScriptedAgents implements AutoCloseable {

    /**
     * One reply to send: after {@code delayMs}, {@code body} with {@code correlationId} (null: the request's); sent as
     * a BytesMessage of {@code bytes} when they are given (as STOMP with content-length arrives).
     */
    public record Reply(long delayMs, String body, String correlationId, byte[] bytes) {
        public Reply(long delayMs, String body, String correlationId) {
            this(delayMs, body, correlationId, null);
        }

        public static Reply ofBytes(byte[] bytes) {
            return new Reply(0, null, null, bytes);
        }

        public static Reply ok(Object output) {
            return new Reply(0, Json.write(Map.of("status", "ok", "output", output)), null);
        }

        public static Reply error(String error, boolean retryable) {
            return new Reply(0, Json.write(Map.of("status", "error", "error", error, "retryable", retryable)), null);
        }

        /** A heartbeat: the agent is still working on the attempt. */
        public static Reply heartbeat() {
            return new Reply(0, "{\"status\": \"running\"}", null);
        }

        public Reply after(long delayMs) {
            return new Reply(delayMs, body, correlationId);
        }
    }

    /** A request as the agent received it. */
    public record Received(String agent, JsonNode request, String correlationId, long receivedAtNanos) {
        public String action() {
            return request.path("action").asText();
        }

        public String stepId() {
            return request.path("step_id").asText();
        }

        public JsonNode input() {
            return request.path("input");
        }
    }

    private final ConnectionFactory connectionFactory;
    private final List<Connection> connections = new ArrayList<>();
    private final ScheduledExecutorService delayed = Executors.newScheduledThreadPool(4);
    private final List<Received> received = new CopyOnWriteArrayList<>();
    private final Map<String, Function<Received, List<Reply>>> behaviours = new ConcurrentHashMap<>();

    public ScriptedAgents(ConnectionFactory connectionFactory) {
        this.connectionFactory = connectionFactory;
    }

    /** Starts an agent whose replies come from {@code behaviour} (it may answer per action). */
    public ScriptedAgents agent(String name, Function<Received, List<Reply>> behaviour) throws JMSException {
        behaviours.put(name, behaviour);
        Connection connection = connectionFactory.createConnection();
        connections.add(connection);
        for (int i = 0; i < 4; i++) {
            Session session = connection.createSession(false, Session.AUTO_ACKNOWLEDGE);
            Session replySession = connection.createSession(false, Session.AUTO_ACKNOWLEDGE);
            MessageProducer producer = replySession.createProducer(null);
            producer.setDeliveryMode(DeliveryMode.PERSISTENT);
            session.createConsumer(session.createQueue("agent." + name)).setMessageListener(message -> onRequest(name, message, replySession, producer));
        }
        connection.start();
        return this;
    }

    /** An agent that answers every action with the same output. */
    public ScriptedAgents echo(String name, Function<Received, Object> output) throws JMSException {
        return agent(name, r -> List.of(Reply.ok(output.apply(r))));
    }

    private void onRequest(String name, Message message, Session replySession, MessageProducer producer) {
        try {
            String text = ((TextMessage) message).getText();
            Received request = new Received(name, Json.parse(text), message.getJMSCorrelationID(), System.nanoTime());
            received.add(request);
            Destination replyTo = message.getJMSReplyTo();
            for (Reply reply : behaviours.get(name).apply(request)) {
                Runnable send = () -> send(replySession, producer, replyTo, reply, request.correlationId());
                if (reply.delayMs() > 0) {
                    delayed.schedule(send, reply.delayMs(), TimeUnit.MILLISECONDS);
                } else {
                    send.run();
                }
            }
        } catch (JMSException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void send(Session session, MessageProducer producer, Destination replyTo, Reply reply, String correlationId) {
        synchronized (producer) {
            try {
                jakarta.jms.Message message;
                if (reply.bytes() != null) {
                    jakarta.jms.BytesMessage bytes = session.createBytesMessage();
                    bytes.writeBytes(reply.bytes());
                    message = bytes;
                } else {
                    message = session.createTextMessage(reply.body());
                }
                message.setJMSCorrelationID(reply.correlationId() != null ? reply.correlationId() : correlationId);
                producer.send(replyTo, message);
            } catch (JMSException e) {
                throw new IllegalStateException(e);
            }
        }
    }

    public List<Received> received() {
        return List.copyOf(received);
    }

    public List<Received> received(String stepId) {
        return received.stream().filter(r -> r.stepId().equals(stepId)).toList();
    }

    @Override
    public void close() throws Exception {
        delayed.shutdownNow();
        for (Connection connection : connections) {
            connection.close();
        }
    }
}
