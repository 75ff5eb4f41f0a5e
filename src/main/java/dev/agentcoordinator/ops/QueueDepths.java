package dev.agentcoordinator.ops;

import dev.agentcoordinator.infra.BrokerManagement;
import jakarta.jms.ConnectionFactory;
import org.apache.activemq.artemis.api.core.management.ResourceNames;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Message and consumer counts of queues, asked from Artemis through its management address (works with the
 * embedded broker and with a standalone one whose user has the {@code manage} permission, as the
 * docker image's admin user has). A queue that does not exist yet, or a broker that refuses, is
 * left out.
 */
public final class QueueDepths {

    /** One queue as the broker counted it: messages waiting, and consumers attached. */
    public record Counts(long messages, long consumers) {
    }

    private final ConnectionFactory connectionFactory;
    /** The queues to count, asked at each read: a reload of the workflows may bring agents of its own. */
    private final java.util.function.Supplier<List<String>> queues;
    private final long timeoutMs;

    public QueueDepths(ConnectionFactory connectionFactory, List<String> queues, long timeoutMs) {
        this(connectionFactory, () -> queues, timeoutMs);
    }

    public QueueDepths(ConnectionFactory connectionFactory, java.util.function.Supplier<List<String>> queues, long timeoutMs) {
        this.connectionFactory = connectionFactory;
        this.queues = queues;
        this.timeoutMs = timeoutMs;
    }

    public Map<String, Counts> read() throws Exception {
        Map<String, Counts> counts = new LinkedHashMap<>();
        try (BrokerManagement management = BrokerManagement.open(connectionFactory, timeoutMs)) {
            for (String queue : queues.get()) {
                Optional<BrokerManagement.Answer> messages = management.attribute(ResourceNames.QUEUE + queue, "messageCount");
                Optional<BrokerManagement.Answer> consumers = messages.isEmpty() ? Optional.empty()
                        : management.attribute(ResourceNames.QUEUE + queue, "consumerCount");
                if (consumers.isEmpty()) {
                    break;   // broker does not answer management requests: report what we have
                }
                Long messageCount = count(messages.get());
                Long consumerCount = count(consumers.get());
                if (messageCount != null && consumerCount != null) {   // else no such queue (yet)
                    counts.put(queue, new Counts(messageCount, consumerCount));
                }
            }
        }
        return counts;
    }

    private static Long count(BrokerManagement.Answer answer) {
        return answer.succeeded() && answer.result() instanceof Number count ? count.longValue() : null;
    }
}
