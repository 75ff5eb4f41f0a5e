package dev.agentcoordinator.agent;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import jakarta.jms.BytesMessage;
import jakarta.jms.Connection;
import jakarta.jms.ConnectionFactory;
import jakarta.jms.Destination;
import jakarta.jms.JMSException;
import jakarta.jms.Message;
import jakarta.jms.MessageConsumer;
import jakarta.jms.MessageProducer;
import jakarta.jms.Queue;
import jakarta.jms.Session;
import jakarta.jms.TextMessage;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;

/** Plays the coordinator in tests: sends step requests to agent.<name> and collects replies by correlation id. */
public final class StepRequestClient implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long REPLY_TIMEOUT_MILLIS = 10_000;

    private final Connection connection;
    private final Session session;
    private final MessageProducer producer;
    private final Queue replyQueue;
    private final MessageConsumer replies;
    private final Map<String, JsonNode> early = new HashMap<>();
    private final Map<String, Integer> heartbeats = new HashMap<>();
    private final Map<String, Destination> heartbeatReplyTo = new HashMap<>();
    private final Map<String, JsonNode> lastHeartbeat = new HashMap<>();

    public StepRequestClient(ConnectionFactory connectionFactory) throws JMSException {
        connection = connectionFactory.createConnection();
        session = connection.createSession(false, Session.AUTO_ACKNOWLEDGE);
        producer = session.createProducer(null);
        replyQueue = session.createQueue("test.replies." + UUID.randomUUID());
        replies = session.createConsumer(replyQueue);
        connection.start();
    }

    /** A request body as the coordinator writes it. */
    public static String requestBody(String agent, String action, Map<String, ?> input) {
        return requestBody(agent, action, input, null);
    }

    /** ... for a later attempt, with the progress an earlier one reported (null: none). */
    public static String requestBody(String agent, String action, Map<String, ?> input, Object progress) {
        Map<String, Object> body = new HashMap<>();
        if (progress != null) {
            body.put("progress", progress);
        }
        body.put("execution_id", "exec-1");
        body.put("workflow_id", "wf-test");
        body.put("step_id", "step-" + action);
        body.put("agent", agent);
        body.put("action", action);
        body.put("attempt", 1);
        body.put("iteration", 0);
        body.put("deadline", "2026-11-25T10:00:30Z");
        body.put("input", input);
        try {
            return JSON.writeValueAsString(body);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** Sends a request and returns its correlation id. */
    public String send(String agent, String action, Map<String, ?> input) throws JMSException {
        return sendText(agent, requestBody(agent, action, input), true);
    }

    public String sendText(String agent, String body, boolean withReplyTo) throws JMSException {
        TextMessage message = session.createTextMessage(body);
        return send(agent, message, withReplyTo);
    }

    /** As {@link #sendText}, the message changed by {@code adjust} before it is sent (a property another client sets). */
    public String sendText(String agent, String body, java.util.function.Consumer<TextMessage> adjust) throws JMSException {
        TextMessage message = session.createTextMessage(body);
        adjust.accept(message);
        return send(agent, message, true);
    }

    /** As a STOMP client with content-length would: the JSON as bytes. */
    public String sendBytes(String agent, String body) throws JMSException {
        BytesMessage message = session.createBytesMessage();
        message.writeBytes(body.getBytes(StandardCharsets.UTF_8));
        return send(agent, message, true);
    }

    private String send(String agent, Message message, boolean withReplyTo) throws JMSException {
        String correlationId = UUID.randomUUID().toString();
        message.setJMSCorrelationID(correlationId);
        if (withReplyTo) {
            message.setJMSReplyTo(replyQueue);
        }
        producer.send(session.createQueue(AgentService.queueName(agent)), message);
        return correlationId;
    }

    /**
     * The reply with this correlation id (replies may arrive in any order); heartbeats
     * ({@code {"status": "running"}}) on the way are counted, see {@link #heartbeats}.
     */
    public JsonNode awaitReply(String correlationId) throws Exception {
        receiveUntil(() -> early.containsKey(correlationId), "no reply with correlation id " + correlationId);
        return early.remove(correlationId);
    }

    /** Where the agent asks the coordinator to answer its heartbeats for this request (their JMSReplyTo). */
    public Destination awaitHeartbeat(String correlationId) throws Exception {
        receiveUntil(() -> heartbeatReplyTo.containsKey(correlationId), "no heartbeat with correlation id " + correlationId);
        return heartbeatReplyTo.get(correlationId);
    }

    /** Receives until the heartbeats of this request (their count, the latest or null) satisfy {@code condition}. */
    public void awaitHeartbeats(String correlationId, java.util.function.BiPredicate<Integer, JsonNode> condition) throws Exception {
        receiveUntil(() -> condition.test(heartbeats(correlationId), lastHeartbeat(correlationId)),
                "no heartbeats as expected with correlation id " + correlationId);
    }

    /** Answers a heartbeat as the coordinator would: {@code body} with the request's correlation id. */
    public void answerHeartbeat(Destination replyTo, String correlationId, String body) throws JMSException {
        TextMessage answer = session.createTextMessage(body);
        answer.setJMSCorrelationID(correlationId);
        producer.send(replyTo, answer);
    }

    /** Whether a reply (not a heartbeat) with this correlation id has arrived and not been awaited yet. */
    public boolean hasReply(String correlationId) {
        return early.containsKey(correlationId);
    }

    private void receiveUntil(java.util.function.BooleanSupplier arrived, String failure) throws Exception {
        long deadline = System.currentTimeMillis() + REPLY_TIMEOUT_MILLIS;
        while (!arrived.getAsBoolean()) {
            long remaining = deadline - System.currentTimeMillis();
            Message reply = remaining > 0 ? replies.receive(remaining) : null;
            if (reply == null) {
                throw new AssertionError(failure + " within " + REPLY_TIMEOUT_MILLIS + " ms");
            }
            JsonNode body = JSON.readTree(((TextMessage) reply).getText());
            if ("running".equals(body.path("status").asText())) {
                heartbeats.merge(reply.getJMSCorrelationID(), 1, Integer::sum);
                lastHeartbeat.put(reply.getJMSCorrelationID(), body);
                if (reply.getJMSReplyTo() != null) {
                    heartbeatReplyTo.put(reply.getJMSCorrelationID(), reply.getJMSReplyTo());
                }
            } else {
                early.put(reply.getJMSCorrelationID(), body);
            }
        }
    }

    /** The latest heartbeat received for the request with this correlation id, or null. */
    public JsonNode lastHeartbeat(String correlationId) {
        return lastHeartbeat.get(correlationId);
    }

    /** Heartbeats received so far for the request with this correlation id. */
    public int heartbeats(String correlationId) {
        return heartbeats.getOrDefault(correlationId, 0);
    }

    @Override
    public void close() throws JMSException {
        connection.close();
    }
}
