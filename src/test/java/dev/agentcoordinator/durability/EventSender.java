package dev.agentcoordinator.durability;

import jakarta.jms.BytesMessage;
import jakarta.jms.Connection;
import jakarta.jms.ConnectionFactory;
import jakarta.jms.DeliveryMode;
import jakarta.jms.JMSException;
import jakarta.jms.Message;
import jakarta.jms.MessageProducer;
import jakarta.jms.Session;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/** Puts messages on a queue (persistent), as a user or an agent would; one connection per sender. */
public final class EventSender implements AutoCloseable {
    private final Connection connection;
    private final Session session;
    private final MessageProducer producer;

    public EventSender(ConnectionFactory factory) throws JMSException {
        connection = factory.createConnection();
        session = connection.createSession(false, Session.AUTO_ACKNOWLEDGE);
        producer = session.createProducer(null);
        producer.setDeliveryMode(DeliveryMode.PERSISTENT);
    }

    /** Sends {@code count} events of {@code type}, each with its own event_id; returns the ids in order. */
    public List<String> events(String type, int count) throws JMSException {
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            String id = type.toLowerCase() + "-" + i + "-" + UUID.randomUUID();
            text("agent.events", "{\"type\":\"" + type + "\",\"event_id\":\"" + id + "\",\"payload\":{\"n\":" + i + "}}");
            ids.add(id);
        }
        return ids;
    }

    public void text(String queue, String body) throws JMSException {
        text(queue, body, null);
    }

    public void text(String queue, String body, String correlationId) throws JMSException {
        send(queue, session.createTextMessage(body), correlationId);
    }

    public void bytes(String queue, byte[] body) throws JMSException {
        BytesMessage message = session.createBytesMessage();
        message.writeBytes(body);
        send(queue, message, null);
    }

    public void bytes(String queue, String body) throws JMSException {
        bytes(queue, body.getBytes(StandardCharsets.UTF_8));
    }

    public Session session() {
        return session;
    }

    public void send(String queue, Message message, String correlationId) throws JMSException {
        if (correlationId != null) {
            message.setJMSCorrelationID(correlationId);
        }
        producer.send(session.createQueue(queue), message);
    }

    @Override
    public void close() throws JMSException {
        connection.close();
    }
}
