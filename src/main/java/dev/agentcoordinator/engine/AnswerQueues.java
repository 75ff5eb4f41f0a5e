package dev.agentcoordinator.engine;

import dev.agentcoordinator.infra.EmbeddedBroker;

import java.util.regex.Pattern;

/**
 * Whether the coordinator may send an answer it writes itself (a heartbeat's stop, an agent message's response or
 * refusal) to the queue a sender named as its JMSReplyTo: not to a queue the coordinator or an agent reads, where
 * it would pass for one of theirs (a stop taken by an agent as a request, an answer read as an event, a reply or
 * a dead letter), nor to the broker's own addresses. Whoever may send to the coordinator could otherwise write into
 * queues the broker's roles keep them out of (docs/operations.md, "Security"), with the coordinator's rights.
 */
public final class AnswerQueues {
    /** {@code agent.<name>} with an agent's name (no dot in it): a request queue, or agent.events / agent.messages. */
    private static final Pattern AGENT_QUEUE = Pattern.compile("agent\\.[a-z][a-z0-9_-]*");

    private AnswerQueues() {
    }

    /** {@code queue} (a name without "queue://") may take an answer; {@code replyQueue}: the coordinator's reply queue. */
    public static boolean answerable(String queue, String replyQueue) {
        return queue != null && !queue.isEmpty() && !queue.equals(replyQueue)
                // a fully qualified queue name (address::queue) reaches the queue it names: agent.x::agent.x is agent.x
                && !queue.contains("::") && !queue.startsWith("coordinator.")
                && !AGENT_QUEUE.matcher(queue).matches()
                // dead letters (GET /api/dead-letters lists them), expired messages, the broker's management and its own
                && !queue.endsWith("DLQ") && !queue.equals(EmbeddedBroker.DEAD_LETTER_ADDRESS)
                && !queue.equals(EmbeddedBroker.EXPIRY_ADDRESS) && !queue.startsWith("activemq.") && !queue.startsWith("$sys.");
    }
}
