package dev.agentcoordinator.ops;

import jakarta.jms.Connection;
import jakarta.jms.ConnectionFactory;
import jakarta.jms.Message;
import jakarta.jms.MessageConsumer;
import jakarta.jms.MessageProducer;
import jakarta.jms.Session;
import jakarta.jms.TemporaryQueue;
import org.apache.activemq.artemis.api.core.management.ResourceNames;
import org.apache.activemq.artemis.api.jms.management.JMSManagementHelper;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Message counts of queues, asked from Artemis through its management address (works with the
 * embedded broker and with a standalone one whose user has the {@code manage} permission, as the
 * docker image's admin user has). A queue that does not exist yet, or a broker that refuses, is
 * left out.
 */
public final class QueueDepths {

    static final String MANAGEMENT_ADDRESS = "activemq.management";

    private final ConnectionFactory connectionFactory;
    private final List<String> queues;
    private final long timeoutMs;

    public QueueDepths(ConnectionFactory connectionFactory, List<String> queues, long timeoutMs) {
        this.connectionFactory = connectionFactory;
        this.queues = List.copyOf(queues);
        this.timeoutMs = timeoutMs;
    }

    public Map<String, Long> read() throws Exception {
        Map<String, Long> depths = new LinkedHashMap<>();
        try (Connection connection = connectionFactory.createConnection();
             Session session = connection.createSession(false, Session.AUTO_ACKNOWLEDGE)) {
            TemporaryQueue replies = session.createTemporaryQueue();
            try (MessageProducer producer = session.createProducer(session.createQueue(MANAGEMENT_ADDRESS));
                 MessageConsumer consumer = session.createConsumer(replies)) {
                connection.start();
                for (String queue : queues) {
                    Message request = session.createMessage();
                    JMSManagementHelper.putAttribute(request, ResourceNames.QUEUE + queue, "messageCount");
                    request.setJMSReplyTo(replies);
                    producer.send(request);
                    Message reply = consumer.receive(timeoutMs);
                    if (reply == null) {
                        break;   // broker does not answer management requests: report what we have
                    }
                    if (JMSManagementHelper.hasOperationSucceeded(reply)
                            && JMSManagementHelper.getResult(reply) instanceof Number count) {
                        depths.put(queue, count.longValue());
                    }
                }
            } finally {
                replies.delete();
            }
        }
        return depths;
    }
}
