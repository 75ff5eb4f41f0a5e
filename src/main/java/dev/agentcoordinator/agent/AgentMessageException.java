package dev.agentcoordinator.agent;

/**
 * An agent message that got no useful response: the recipient answered with an error, the
 * coordinator refused the message, or (subclass {@link AgentMessageTimeoutException}) no response
 * came in time.
 */
public class AgentMessageException extends RuntimeException {
    private final String messageId;

    public AgentMessageException(String messageId, String message) {
        super(message);
        this.messageId = messageId;
    }

    public String messageId() {
        return messageId;
    }
}
