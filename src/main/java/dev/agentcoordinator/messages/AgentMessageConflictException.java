package dev.agentcoordinator.messages;

/** An agent message that is well formed but cannot be taken in the state its message id is in (HTTP 409). */
public class AgentMessageConflictException extends InvalidAgentMessageException {
    public AgentMessageConflictException(String message) {
        super(message);
    }
}
