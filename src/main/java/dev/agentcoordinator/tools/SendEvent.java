package dev.agentcoordinator.tools;

import dev.agentcoordinator.config.CoordinatorSettings;
import dev.agentcoordinator.config.Secrets;
import dev.agentcoordinator.engine.EventDecoder;
import dev.agentcoordinator.engine.InvalidEventException;
import dev.agentcoordinator.engine.Json;
import org.apache.activemq.artemis.jms.client.ActiveMQConnectionFactory;

import jakarta.jms.Connection;
import jakarta.jms.DeliveryMode;
import jakarta.jms.JMSException;
import jakarta.jms.MessageProducer;
import jakarta.jms.Session;
import java.io.PrintStream;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;

/**
 * Drops one event on {@code agent.events}, as any producer would:
 * {@code SendEvent TYPE 'PAYLOAD-JSON' [BROKER-URL]}. Prints the event id to follow it with. The broker's login comes
 * from the environment: {@code COORDINATOR_BROKER_USER}, and {@code COORDINATOR_BROKER_PASSWORD} or the file
 * {@code COORDINATOR_BROKER_PASSWORD_FILE} names (read as the coordinator reads it).
 */
public final class SendEvent {

    private SendEvent() {
    }

    public static void main(String[] args) {
        int status = run(args, System.getenv(), System.out, System.err);
        if (status != 0) {   // on success main returns: under mvn exec:java an exit would end Maven's JVM too
            System.exit(status);
        }
    }

    /** Sends the event; 0 when sent (its id on {@code out}), 2 for bad arguments or settings, 1 when the broker did not take it. */
    static int run(String[] args, Map<String, String> env, PrintStream out, PrintStream err) {
        if (args.length < 2) {
            err.println("usage: SendEvent TYPE PAYLOAD_JSON [BROKER_URL], e.g. SendEvent MARKET_UPDATE '{\"region\": \"eu\"}' tcp://127.0.0.1:61616");
            return 2;
        }
        String brokerUrl = args.length > 2 ? args[2] : env.getOrDefault("COORDINATOR_BROKER_URL", "tcp://127.0.0.1:61616");
        Map<String, Object> event = new LinkedHashMap<>();
        event.put("type", args[0]);
        event.put("event_id", UUID.randomUUID().toString());
        try {
            event.put("payload", Json.parse(args[1]));
        } catch (IllegalArgumentException e) {
            err.println("not sent: the payload (second argument) is " + e.getMessage());
            return 2;
        }
        String body = Json.write(event);
        try {
            EventDecoder.parse(body);
        } catch (InvalidEventException e) {
            err.println("not sent: " + e.getMessage());
            return 2;
        }
        String password;
        try {   // COORDINATOR_BROKER_PASSWORD, or the file COORDINATOR_BROKER_PASSWORD_FILE names, as the coordinator reads them
            password = CoordinatorSettings.secretFromEnvironment("coordinator.broker.password", env);
        } catch (IllegalArgumentException e) {
            err.println("not sent: " + e.getMessage());
            return 2;
        }
        try (ActiveMQConnectionFactory factory = new ActiveMQConnectionFactory(brokerUrl,
                env.get("COORDINATOR_BROKER_USER"), password.isEmpty() ? null : password);
             Connection connection = factory.createConnection();
             Session session = connection.createSession(false, Session.AUTO_ACKNOWLEDGE)) {
            MessageProducer producer = session.createProducer(session.createQueue("agent.events"));
            producer.setDeliveryMode(DeliveryMode.PERSISTENT);
            producer.send(session.createTextMessage(body));
        } catch (JMSException e) {
            err.println("not sent: the broker at " + Secrets.redactUrl(brokerUrl) + " (COORDINATOR_BROKER_URL or the third"
                    + " argument) did not take it: " + e.getMessage() + (e.getCause() == null ? "" : " (" + e.getCause().getMessage() + ")"));
            return 1;
        }
        out.println(event.get("event_id"));
        return 0;
    }
}
