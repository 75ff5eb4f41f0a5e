package dev.agentcoordinator.tools;

import dev.agentcoordinator.engine.EventDecoder;
import dev.agentcoordinator.engine.InvalidEventException;
import dev.agentcoordinator.engine.Json;
import org.apache.activemq.artemis.jms.client.ActiveMQConnectionFactory;

import jakarta.jms.Connection;
import jakarta.jms.DeliveryMode;
import jakarta.jms.MessageProducer;
import jakarta.jms.Session;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;

/**
 * Drops one event on {@code agent.events}, as any producer would:
 * {@code SendEvent TYPE 'PAYLOAD-JSON' [BROKER-URL]}. Prints the event id to follow it with.
 */
public final class SendEvent {

    private SendEvent() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 2) {
            System.err.println("usage: SendEvent TYPE '{\"payload\": \"json\"}' [tcp://127.0.0.1:61616]");
            System.exit(2);
        }
        String brokerUrl = args.length > 2 ? args[2] : System.getenv().getOrDefault("COORDINATOR_BROKER_URL", "tcp://127.0.0.1:61616");
        Map<String, Object> event = new LinkedHashMap<>();
        event.put("type", args[0]);
        event.put("event_id", UUID.randomUUID().toString());
        event.put("payload", Json.parse(args[1]));
        String body = Json.write(event);
        try {
            EventDecoder.parse(body);
        } catch (InvalidEventException e) {
            System.err.println("not sent: " + e.getMessage());
            System.exit(2);
        }
        try (ActiveMQConnectionFactory factory = new ActiveMQConnectionFactory(brokerUrl,
                System.getenv("COORDINATOR_BROKER_USER"), System.getenv("COORDINATOR_BROKER_PASSWORD"));
             Connection connection = factory.createConnection();
             Session session = connection.createSession(false, Session.AUTO_ACKNOWLEDGE)) {
            MessageProducer producer = session.createProducer(session.createQueue("agent.events"));
            producer.setDeliveryMode(DeliveryMode.PERSISTENT);
            producer.send(session.createTextMessage(body));
        }
        System.out.println(event.get("event_id"));
    }
}
