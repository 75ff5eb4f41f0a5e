package dev.agentcoordinator.ops;

import dev.agentcoordinator.infra.BrokerManagement;
import jakarta.jms.ConnectionFactory;
import org.apache.activemq.artemis.api.core.management.ResourceNames;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Message counts of queues, asked from Artemis through its management address (works with the
 * embedded broker and with a standalone one whose user has the {@code manage} permission, as the
 * docker image's admin user has). A queue that does not exist yet, or a broker that refuses, is
 * left out.
 */
public final class QueueDepths {

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
        try (BrokerManagement management = BrokerManagement.open(connectionFactory, timeoutMs)) {
            for (String queue : queues) {
                Optional<BrokerManagement.Answer> answer = management.attribute(ResourceNames.QUEUE + queue, "messageCount");
                if (answer.isEmpty()) {
                    break;   // broker does not answer management requests: report what we have
                }
                if (answer.get().succeeded() && answer.get().result() instanceof Number count) {
                    depths.put(queue, count.longValue());
                }
            }
        }
        return depths;
    }
}
