package dev.agentcoordinator.bench;

import jakarta.jms.DeliveryMode;
import jakarta.jms.JMSContext;
import jakarta.jms.Queue;
import org.apache.activemq.artemis.jms.client.ActiveMQConnectionFactory;
import org.messaginghub.pooled.jms.JmsPoolConnectionFactory;

import java.util.UUID;

/** Puts trigger events on {@code agent.events}, persistent, as a user would; safe from any thread. */
final class EventSender implements AutoCloseable {
    private final JmsPoolConnectionFactory pool = new JmsPoolConnectionFactory();

    EventSender(String brokerUrl) {
        ActiveMQConnectionFactory factory = new ActiveMQConnectionFactory(brokerUrl);
        factory.setCacheDestinations(true);
        pool.setConnectionFactory(factory);
        pool.setMaxConnections(2);
    }

    /** Sends one event; returns its event_id (the execution's trigger_event_key). */
    String send(String type, String payloadJson) {
        String eventId = UUID.randomUUID().toString();
        String body = "{\"type\":\"" + type + "\",\"event_id\":\"" + eventId + "\",\"payload\":" + payloadJson + "}";
        try (JMSContext context = pool.createContext()) {
            Queue events = context.createQueue("agent.events");
            context.createProducer().setDeliveryMode(DeliveryMode.PERSISTENT).send(events, body);
        }
        return eventId;
    }

    String interview(long n) {
        return send("BENCH_INTERVIEW", "{\"interview_id\":\"i-" + n + "\",\"user_id\":\"u-" + n + "\"}");
    }

    @Override
    public void close() {
        pool.stop();
    }
}
