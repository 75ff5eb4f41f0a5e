package dev.agentcoordinator.agent;

/** No response came in time: the coordinator marked the message {@code timed_out}. */
public class AgentMessageTimeoutException extends AgentMessageException {
    public AgentMessageTimeoutException(String messageId, String message) {
        super(messageId, message);
    }
}
